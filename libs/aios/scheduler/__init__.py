"""The scheduler service: unattended retraining on its schedules, and rollout state as metrics for alerting."""
