"""The ingest edge: the HTTP API and webhooks through which RPA bots and systems send events."""
