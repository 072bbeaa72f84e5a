"""Consumer lag read from the broker, for every group (`python -m services.lag_exporter`)."""
