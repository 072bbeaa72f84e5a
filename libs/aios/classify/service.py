"""The classify worker assembled: backend, registry watcher, handler and the shared consumer loop."""

from __future__ import annotations

import logging

from aios.classify.backend import InferenceBackend
from aios.classify.handler import ClassifyHandler
from aios.classify.routes import RoutingTable
from aios.classify.settings import ClassifySettings
from aios.classify.torch_backend import TorchBackend
from aios.classify.watcher import RegistryWatcher
from aios.drift.monitor import DriftMonitor
from aios.errors import AiosError
from aios.inference.model_registry import LocalArtifactStore
from aios.inference.settings import ModelSettings
from aios.runtime.worker import Worker, WorkerSpec

log = logging.getLogger(__name__)

SERVICE = "classify"


def make_backend(kind: str, triton_url: str, models: ModelSettings | None = None) -> InferenceBackend:
    """`torch` (in this process) or `triton` (the server at `triton_url`)."""
    models = models or ModelSettings()
    if kind == "triton":
        from aios.classify.triton_backend import TritonBackend

        return TritonBackend(triton_url)
    return TorchBackend(LocalArtifactStore(models.artifact_dir), models)


def start_classify(worker: Worker[ClassifySettings]) -> ClassifyHandler:
    """Wait for a promoted model (the registry watcher and drift monitor run until shutdown), then classify."""
    settings = worker.settings
    backend = make_backend(settings.backend, settings.triton_url)
    drift = DriftMonitor(SERVICE, window_s=settings.drift_window_s, min_events=settings.drift_min_events)
    watcher = RegistryWatcher(
        worker.connection.postgres_dsn.get_secret_value(),
        lambda rows, revision: RoutingTable.from_aliases(rows, settings.model_name, revision),
        RoutingTable(default=None, revision=-1),
        backend,
        poll_interval_s=settings.poll_interval_s,
        service=SERVICE,
        drift=drift,
    )
    watcher.start()
    worker.on_close(watcher.stop)
    drift.start(settings.drift_interval_s)
    worker.on_close(drift.stop)
    if not watcher.wait_ready(settings.ready_timeout_s):
        raise AiosError(
            f"no model is promoted for {settings.model_name!r} after {settings.ready_timeout_s:.0f} s "
            "(aios model train-default, or aios model promote)"
        )
    return ClassifyHandler(
        backend, watcher.current, top_k=settings.top_k, output_topic=settings.output_topic, service=SERVICE, drift=drift
    )


def classify_worker(settings: ClassifySettings) -> WorkerSpec[ClassifySettings]:
    """Classify until SIGTERM (the batch in hand is finished first)."""
    return WorkerSpec(SERVICE, settings, consume=start_classify)
