"""One way to run a worker: settings, a spec, and `run_worker`, which does everything but the worker's own logic.

A worker names its topics with `topic_field`s on its `WorkerSettings` and gives `run_worker` a
`WorkerSpec` whose `consume` builds its handler (or whose `run` builds a loop of its own, for a
worker that reads no topic). `run_worker` serves /metrics, builds the codecs from the settings'
topic handles, runs the shared `ConsumerLoop` until SIGTERM or SIGINT (the batch in hand is
finished and committed), then closes what the worker opened, last opened first.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Generic, Protocol, TypeVar

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aios.kafka.loop import ConsumerLoop, Handler, LoopSettings
from aios.kafka.serde import Codecs
from aios.kafka.topics import schema_bindings
from aios.observability.metrics import serve_metrics
from aios.runtime.background import BackgroundLoop
from aios.settings import ConnectionSettings

log = logging.getLogger(__name__)


class ServiceSettings(BaseSettings):
    """What every long-running process has: a port serving /metrics. Subclasses set the env prefix and default."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    metrics_port: int = Field(ge=0, description="Serves /metrics; 0 turns it off.")


class WorkerSettings(ServiceSettings):
    """A worker on the shared consumer loop: its group, its topics and how it batches.

    Subclasses name each topic they read or write with `topic_field` (its default is the catalogue
    topic's name, so the codecs know its schema under any name) and say which they read.
    """

    group_id: str = Field(description="Consumer group; instances in it share the partitions.")
    max_batch: int | None = Field(
        default=None, ge=1, description="Most records handed to the handler at once; default AIOS_LOOP_MAX_BATCH."
    )
    max_wait_ms: int | None = Field(
        default=None, ge=1, description="Longest wait to fill a batch; default AIOS_LOOP_MAX_WAIT_MS."
    )

    def input_topics(self) -> list[str]:
        """The topics the worker reads."""
        raise NotImplementedError

    def topic_schemas(self) -> dict[str, str]:
        """Each topic named in these settings → the catalogue topic whose schema it carries."""
        return schema_bindings(self)


class OneToOneSettings(WorkerSettings):
    """A worker that reads one topic and writes one (subclasses give both a `topic_field` default)."""

    input_topic: str = Field(description="Where records are read.")
    output_topic: str = Field(description="Where results are written.")

    def input_topics(self) -> list[str]:
        return [self.input_topic]


S = TypeVar("S", bound=ServiceSettings)


class Stoppable(Protocol):
    """A loop of a worker's own: runs until `stop()` (called from a signal handler)."""

    def run(self) -> None: ...

    def stop(self) -> None: ...


class Worker(Generic[S]):
    """What a worker's `consume` or `run` gets: its settings and connections, and where to put what it opens."""

    def __init__(self, service: str, settings: S, connection: ConnectionSettings, loop_settings: LoopSettings) -> None:
        self.service = service
        self.settings = settings
        self.connection = connection
        self.loop_settings = loop_settings
        self._closers: list[Callable[[], object]] = []

    def codecs(self) -> Codecs:
        """Codecs for every topic of the settings and the dead-letter topic (one per thread that encodes)."""
        carries = schema_bindings(self.loop_settings)
        if isinstance(self.settings, WorkerSettings):
            carries |= self.settings.topic_schemas()
        return Codecs(self.connection.schema_registry_url, carries=carries)

    @cached_property
    def background(self) -> BackgroundLoop:
        """An asyncio loop on its own thread for pools, clients and tasks; stopped after every `on_close`."""
        loop = BackgroundLoop(f"{self.service}-runtime").start()
        self._closers.insert(0, loop.stop)
        return loop

    def on_close(self, close: Callable[[], object]) -> None:
        """Call `close` at shutdown, after the loop's last commit (closers run last registered first)."""
        self._closers.append(close)

    def close(self) -> None:
        for close in reversed(self._closers):
            try:
                close()
            except Exception:
                log.exception("%s: unclean shutdown", self.service)


@dataclass(frozen=True)
class WorkerSpec(Generic[S]):
    """A worker: its name (metrics label, client id, spans), its settings, and either `consume` or `run`."""

    service: str
    settings: S
    consume: Callable[[Worker[S]], Handler] | None = None
    """Builds the handler the shared consumer loop calls with each batch of `settings.input_topics()`."""
    run: Callable[[Worker[S]], Stoppable] | None = None
    """Builds a loop of the worker's own, for a worker that reads no topic."""

    def __post_init__(self) -> None:
        if (self.consume is None) == (self.run is None):
            raise TypeError(f"{self.service}: a worker spec has either `consume` or `run`")


def run_worker(
    spec: WorkerSpec[S], connection: ConnectionSettings | None = None, loop_settings: LoopSettings | None = None
) -> None:
    """Run the worker of `spec` until SIGTERM or SIGINT, then close what it opened."""
    settings = spec.settings
    worker = Worker(spec.service, settings, connection or ConnectionSettings(), _loop_settings(settings, loop_settings))
    serve_metrics(settings.metrics_port)
    try:
        loop: Stoppable
        if spec.run is not None:
            loop = spec.run(worker)
        else:
            if not isinstance(settings, WorkerSettings) or spec.consume is None:
                raise TypeError(f"{spec.service}: a consuming worker needs WorkerSettings")
            handler = spec.consume(worker)
            loop = ConsumerLoop(
                spec.service,
                settings.group_id,
                settings.input_topics(),
                handler,
                connection=worker.connection,
                settings=worker.loop_settings,
                codecs=worker.codecs(),
            )
        with _stopping_on_signals(loop):
            loop.run()
    finally:
        worker.close()


@contextlib.contextmanager
def _stopping_on_signals(loop: Stoppable) -> Iterator[None]:
    """SIGTERM and SIGINT stop `loop` (which finishes the batch in hand); the previous handlers come back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, lambda *_: loop.stop()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _loop_settings(settings: ServiceSettings, given: LoopSettings | None) -> LoopSettings:
    """The loop's settings (`given` or `AIOS_LOOP_*`) with the worker's own batch size and wait, if it has them."""
    loop_settings = given or LoopSettings()
    if not isinstance(settings, WorkerSettings):
        return loop_settings
    own = {"max_batch": settings.max_batch, "max_wait_ms": settings.max_wait_ms}
    return loop_settings.model_copy(update={key: value for key, value in own.items() if value is not None})
