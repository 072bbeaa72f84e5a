"""Lag exporter: broker-side consumer group lag for Prometheus."""
