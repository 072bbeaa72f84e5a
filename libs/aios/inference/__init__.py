"""Text classification for AIOS: sentence encoder, classifier with out-of-scope decision, trainer, registry."""
