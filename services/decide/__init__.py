"""The decide service (policy as code, Faust state); the logic lives in `aios.decide`."""
