"""The ingest edge service (HTTP API and webhooks); the logic lives in `aios.ingest`."""
