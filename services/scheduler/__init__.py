"""Scheduler: scheduled retraining and rollout state for Prometheus."""
