"""The classify worker assembled: backend, registry watcher, handler and the shared consumer loop."""

from __future__ import annotations

import logging

from aios.classify.backend import InferenceBackend
from aios.classify.handler import ClassifyHandler
from aios.classify.settings import CLASSIFIED_TOPIC, RECEIVED_TOPIC, ClassifySettings
from aios.classify.torch_backend import TorchBackend
from aios.classify.watcher import RegistryWatcher
from aios.drift.monitor import DriftMonitor
from aios.errors import AiosError
from aios.inference.registry import LocalArtifactStore
from aios.inference.settings import ModelSettings
from aios.kafka.deadletter import DEADLETTER_TOPIC
from aios.kafka.loop import ConsumerLoop, LoopSettings
from aios.observability.metrics import serve_metrics
from aios.schemas.serde import Codecs
from aios.settings import ConnectionSettings

log = logging.getLogger(__name__)

SERVICE = "classify"


def make_backend(settings: ClassifySettings, models: ModelSettings | None = None) -> InferenceBackend:
    models = models or ModelSettings()
    if settings.backend == "triton":
        from aios.classify.triton_backend import TritonBackend

        return TritonBackend(settings.triton_url)
    return TorchBackend(LocalArtifactStore(models.artifact_dir), models)


def run_worker(
    settings: ClassifySettings | None = None,
    connection: ConnectionSettings | None = None,
    loop_settings: LoopSettings | None = None,
) -> None:
    """Wait for a promoted model, then classify until SIGTERM (the batch in hand is finished first)."""
    settings = settings or ClassifySettings()
    connection = connection or ConnectionSettings()
    backend = make_backend(settings)
    drift = DriftMonitor(SERVICE, window_s=settings.drift_window_s, min_events=settings.drift_min_events)
    watcher = RegistryWatcher(
        connection.postgres_dsn.get_secret_value(),
        settings.model_name,
        backend,
        poll_interval_s=settings.poll_interval_s,
        service=SERVICE,
        drift=drift,
    )
    serve_metrics(settings.metrics_port)
    watcher.start()
    drift.start(settings.drift_interval_s)
    try:
        if not watcher.wait_ready(settings.ready_timeout_s):
            raise AiosError(
                f"no model is promoted for {settings.model_name!r} after {settings.ready_timeout_s:.0f} s "
                "(aios model train-default, or aios model promote)"
            )
        handler = ClassifyHandler(
            backend,
            watcher.current,
            top_k=settings.top_k,
            output_topic=settings.output_topic,
            service=SERVICE,
            drift=drift,
        )
        loop_settings = loop_settings or LoopSettings()
        # Topics may be renamed (a filtered copy of a stream, a test's private topics): say which schemas they carry.
        codecs = Codecs(
            connection.schema_registry_url,
            carries={
                settings.input_topic: RECEIVED_TOPIC,
                settings.output_topic: CLASSIFIED_TOPIC,
                loop_settings.deadletter_topic: DEADLETTER_TOPIC,
            },
        )
        loop = ConsumerLoop(
            SERVICE, settings.group_id, [settings.input_topic], handler, connection, loop_settings, codecs
        )
        loop.run()
    finally:
        drift.stop()
        watcher.stop()
