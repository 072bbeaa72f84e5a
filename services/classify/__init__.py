"""The classify worker (batched inference on aios.events.received); the logic lives in `aios.classify`."""
