"""The retrieve-generate worker (passages and drafts for aios.events.classified); the logic lives in `aios.retrieve_generate`."""
