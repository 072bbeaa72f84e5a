"""The model endpoint (Open Inference Protocol v2, REST)."""
