"""The model endpoint's core, free of HTTP: route a tenant's texts to a version, batch, count, shadow.

`{name}` is a registry model name, resolved per tenant through the aliases (`ModelCatalog`). The
request id picks the canary share, as the event id does in the classify worker. A shadow version
runs on a copy of the texts after the answer is ready: it is recorded (metrics, drift), never
returned, and skipped rather than queued when the queue is full.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

from aios.classify.backend import InferenceBackend
from aios.classify.routes import ModelRef, Route
from aios.classify.service import make_backend
from aios.classify.watcher import RegistryWatcher
from aios.db.migrations import migrate
from aios.drift.monitor import DriftMonitor
from aios.infer.batching import Batch, BatchQueue
from aios.infer.catalog import ModelCatalog
from aios.infer.errors import BatchFailed, NotServing, Overloaded, UnknownModel
from aios.infer.settings import InferSettings
from aios.inference.classifier import Prediction
from aios.kafka.errors import TransientError
from aios.observability import metrics
from aios.settings import ConnectionSettings
from aios.tenants.auth import Authenticator
from aios.tenants.store import TenantStore

log = logging.getLogger(__name__)

SERVICE = "infer"


@dataclass(frozen=True)
class Answer:
    ref: ModelRef
    alias: str
    request_id: str
    predictions: list[Prediction]


class InferenceService:
    def __init__(
        self,
        catalog: Callable[[], ModelCatalog],
        queue: BatchQueue,
        *,
        retry_after_s: int = 1,
        service: str = SERVICE,
    ) -> None:
        self.catalog = catalog
        self.queue = queue
        self.retry_after_s = retry_after_s
        self.service = service

    def ready(self) -> bool:
        """The registry has been read once: every name now answers or is unknown."""
        return self.catalog().serving()

    def route(self, name: str, tenant_id: str) -> Route:
        """The tenant's route to `name`; `UnknownModel` when there is none for it, `NotServing` before start-up ends."""
        if not self.ready():
            raise NotServing("the model registry has not been read yet", self.retry_after_s)
        route = self.catalog().route(name, tenant_id)
        if route is None:
            raise UnknownModel(f"no model {name!r} for this tenant")
        return route

    async def infer(
        self, name: str, tenant_id: str, texts: Sequence[str], top_k: int, request_id: str | None = None
    ) -> Answer:
        route = self.route(name, tenant_id)
        request_id = request_id or str(uuid.uuid4())
        ref, alias = route.choose(request_id)
        try:
            predictions = await self.queue.predict(ref, texts, top_k, tenant_id)
        except Overloaded:
            metrics.INFER_REFUSED.labels(self.service, "overloaded").inc()
            raise
        except TransientError as exc:
            raise NotServing(f"{ref} cannot answer now: {exc}", self.retry_after_s) from exc
        except Exception as exc:
            raise BatchFailed(f"the batch with this request failed on {ref}: {exc}") from exc
        for prediction in predictions:
            metrics.record_prediction(self.service, ref.name, ref.version, alias, prediction.confidence, prediction.oos)
        if route.shadow is not None:
            self._shadow(route.shadow, texts, top_k, tenant_id)
        return Answer(ref, alias, request_id, predictions)

    def _shadow(self, ref: ModelRef, texts: Sequence[str], top_k: int, tenant_id: str) -> None:
        future = self.queue.submit(ref, texts, top_k, tenant_id)
        if future is None:
            metrics.INFER_REFUSED.labels(self.service, "shadow_skipped").inc()
            return

        def record(done: asyncio.Future[list[Prediction]]) -> None:
            if done.cancelled() or done.exception() is not None:
                log.warning("shadow %s failed: %r", ref, None if done.cancelled() else done.exception())
                return
            for prediction in done.result():
                metrics.record_prediction(
                    self.service, ref.name, ref.version, "shadow", prediction.confidence, prediction.oos
                )

        future.add_done_callback(record)


def batch_observer(service: str, backend: str, drift: DriftMonitor) -> Callable[[Batch, list[Prediction]], None]:
    """Per batch: its latency and size, each tenant's share of its time (the cost signal), and drift."""

    def observe(batch: Batch, predictions: list[Prediction]) -> None:
        ref = batch.ref
        metrics.record_inference(service, ref.name, ref.version, backend, batch.seconds, batch.tenants)
        drift.observe(ref.name, ref.version, [p.label for p in predictions], [p.confidence for p in predictions])

    return observe


@dataclass
class InferParts:
    """What one server process opens at start and closes at stop."""

    service: InferenceService
    auth: Authenticator
    backend: InferenceBackend


@asynccontextmanager
async def open_parts(settings: InferSettings, connection: ConnectionSettings) -> AsyncIterator[InferParts]:
    dsn = connection.postgres_dsn.get_secret_value()
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4)
    await migrate(pool)
    auth = Authenticator(TenantStore(pool), settings.auth_cache_s)
    await auth.listen()
    backend = make_backend(settings.backend, settings.triton_url)
    drift = DriftMonitor(SERVICE, window_s=settings.drift_window_s, min_events=settings.drift_min_events)
    watcher = RegistryWatcher(
        dsn,
        ModelCatalog.from_aliases,
        ModelCatalog(),
        backend,
        poll_interval_s=settings.poll_interval_s,
        service=SERVICE,
        drift=drift,
    )
    queue = BatchQueue(
        backend.predict,
        max_batch_texts=settings.max_batch_texts,
        max_wait_s=settings.max_wait_ms / 1000,
        max_queued_texts=settings.max_queued_texts,
        retry_after_s=settings.retry_after_s,
        observe=batch_observer(SERVICE, backend.name, drift),
    )
    metrics.start_at_zero(metrics.INFER_REFUSED, SERVICE, ("overloaded", "shadow_skipped"))
    watcher.start()
    drift.start(settings.drift_interval_s)
    try:
        yield InferParts(InferenceService(watcher.current, queue, retry_after_s=settings.retry_after_s), auth, backend)
    finally:
        await queue.close()
        await asyncio.to_thread(watcher.stop)
        drift.stop()
        await auth.close()
        await pool.close()
