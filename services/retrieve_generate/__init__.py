"""The retrieve-generate worker on aios.events.classified; the logic lives in `aios.retrieve_generate`."""
