"""The extract worker (stored documents into fields, checks and events); the logic lives in `aios.extract`."""
