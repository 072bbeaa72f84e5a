"""Confluent-compatible Avro schema registry stored in PostgreSQL, so the stack needs no JVM."""
