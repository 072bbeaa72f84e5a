"""The decide worker: metrics endpoint, the Faust app, and Faust's worker (which handles SIGTERM)."""

from __future__ import annotations

import faust

from aios.decide.app import SERVICE, create_app
from aios.decide.settings import DecideSettings
from aios.kafka.deadletter import consumer_metrics_at_zero
from aios.observability import metrics
from aios.observability.metrics import serve_metrics
from aios.settings import ConnectionSettings


def run_decide(settings: DecideSettings | None = None, connection: ConnectionSettings | None = None) -> None:
    """Decide until SIGTERM: Faust then stops the agents, produces what they sent, commits and exits."""
    settings = settings or DecideSettings()
    serve_metrics(settings.metrics_port)
    consumer_metrics_at_zero(SERVICE, [settings.enriched_topic, settings.completed_topic])
    metrics.start_at_zero(metrics.DECISIONS, SERVICE, metrics.DECISION_OUTCOMES)
    metrics.DECIDE_VERDICTS_IGNORED.labels(SERVICE)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(settings, connection)
    faust.Worker(app, loglevel="INFO").execute_from_commandline()
