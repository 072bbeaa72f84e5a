"""Follows the model registry so a promotion reaches a running worker within seconds, without a restart.

A background thread polls the alias revision (one indexed query); when it grew, it reads the
aliases, has the backend load every version the new table needs, and only then swaps the table
the handler reads. The consumer loop never waits for a model to load, and a registry outage
keeps the last table serving. What a table is comes from the caller: the classify worker routes one
model name (`RoutingTable`), the inference service every name (`aios.infer.catalog.ModelCatalog`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Generic, Protocol, Self, TypeVar

from aios.classify.backend import InferenceBackend
from aios.classify.routes import ModelRef
from aios.db.migrations import migrate
from aios.db.pool import open_pool
from aios.drift.monitor import DriftMonitor
from aios.inference.model_registry import AliasRow, ModelRegistry
from aios.observability import metrics

log = logging.getLogger(__name__)


class Routes(Protocol):
    """A routing table built from the registry's aliases, swapped whole on each revision."""

    @property
    def revision(self) -> int: ...

    def models(self) -> set[ModelRef]:
        """Every version some request may be sent to: what the backend must have loaded."""
        ...

    def restricted_to(self, servable: set[ModelRef], previous: Self) -> Self:
        """This table without the versions that could not be loaded (falling back on `previous`)."""
        ...

    def serving(self) -> bool:
        """Whether the table lets the service start answering."""
        ...


RoutesT = TypeVar("RoutesT", bound=Routes)


class RegistryWatcher(Generic[RoutesT]):
    def __init__(
        self,
        postgres_dsn: str,
        build: Callable[[Sequence[AliasRow], int], RoutesT],
        empty: RoutesT,
        backend: InferenceBackend,
        *,
        poll_interval_s: float = 2.0,
        service: str = "classify",
        drift: DriftMonitor | None = None,
    ) -> None:
        """`build(alias rows, revision)` makes a table; `empty` is served until the first one is loaded."""
        self.postgres_dsn = postgres_dsn
        self.build = build
        self.backend = backend
        self.poll_interval_s = poll_interval_s
        self.service = service
        self.drift = drift
        self._table = empty
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="registry-watcher", daemon=True)

    def current(self) -> RoutesT:
        """The table to route one batch with (replaced whole, never changed in place)."""
        return self._table

    def start(self) -> None:
        self._thread.start()

    def wait_ready(self, timeout_s: float | None = None) -> bool:
        """True once a loaded table is `serving()` (for classify: its model has a production version loaded)."""
        return self._ready.wait(timeout_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                asyncio.run(self._follow())
            except Exception:
                log.exception("%s: lost the model registry; reconnecting", self.service)
                self._stop.wait(self.poll_interval_s)

    async def _follow(self) -> None:
        async with open_pool(self.postgres_dsn, min_size=1, max_size=2) as pool:
            await migrate(pool)
            registry = ModelRegistry(pool)
            while not self._stop.is_set():
                try:
                    await self._refresh(registry)
                except Exception:
                    log.exception("%s: cannot refresh; keeping revision %s", self.service, self._table.revision)
                await asyncio.to_thread(self._stop.wait, self.poll_interval_s)

    async def _refresh(self, registry: ModelRegistry) -> None:
        revision = await registry.aliases_revision()
        if revision == self._table.revision:
            return
        wanted = self.build(await registry.aliases(), revision)
        versions = [await registry.get(ref.name, ref.version) for ref in sorted(wanted.models())]
        servable = await asyncio.to_thread(self.backend.prepare, versions)
        table = wanted.restricted_to(servable, self._table)
        if table.models() != wanted.models():
            log.error(
                "%s: cannot serve %s; routing around them",
                self.service,
                ", ".join(map(str, sorted(wanted.models() - servable))),
            )
        self._table = table
        self.backend.release(table.models())
        if self.drift is not None:
            # Each served version is measured against its own training-time reference.
            self.drift.track(
                (v.name, v.version, v.metrics) for v in versions if ModelRef(v.name, v.version) in table.models()
            )
        metrics.MODEL_REVISION.labels(self.service).set(revision)
        served = ", ".join(map(str, sorted(table.models())))
        log.info("%s: serving alias revision %d: %s", self.service, revision, served or "nothing")
        if table.serving():
            self._ready.set()
