"""AIOS: Kafka-based event-streaming services that turn business events into governed decisions."""

__version__ = "0.1.0"
