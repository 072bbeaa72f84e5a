"""Errors of the observability layer."""

from aios.errors import AiosError


class ObservabilityError(AiosError):
    """Metrics, traces or dashboards could not be read or served."""


class PrometheusUnavailable(ObservabilityError):
    """Prometheus did not answer a query (down, wrong AIOS_PROMETHEUS_URL) or refused it."""
