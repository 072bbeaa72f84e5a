"""The local stack's schema registry (deployments use Confluent's); the logic lives in `aios.schema_registry`."""
