"""Serve every aliased model version from one Triton Inference Server, dynamically batched.

pytriton starts `tritonserver` as a child process; the inference callables run here, in this
process, behind Triton's python backend, and call `TextClassifier.predict`, so Triton answers
exactly what the in-process torch backend answers. Triton merges concurrent requests into one
call (dynamic batching); a worker sends one request per batch of its own.

A promotion is served without a restart: the registry's alias revision is polled, and pytriton's
`bind` on a running server loads the new model into it (Triton runs in explicit model-control
mode). pytriton has no way to unbind one model, so a version that loses its last alias stays
loaded until the process restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg
import numpy as np
import torch
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from pytriton.decorators import batch
from pytriton.exceptions import PyTritonError
from pytriton.model_config import DynamicBatcher, ModelConfig, Tensor
from pytriton.triton import Triton, TritonConfig
from tritonclient.utils import InferenceServerException

from aios.db.migrations import migrate
from aios.db.pool import open_pool
from aios.inference.classifier import TextClassifier
from aios.inference.errors import InferenceError
from aios.inference.loading import load_version
from aios.inference.model_registry import ArtifactStore, LocalArtifactStore, ModelRegistry, ModelVersion
from aios.inference.settings import ModelSettings
from aios.inference.triton_contract import (
    CONFIDENCE,
    LABEL,
    OOS,
    TEXT,
    TOP_LABELS,
    TOP_SCORES,
    encode_predictions,
    text_of,
    triton_model_name,
)
from aios.runtime.catalog import service

logger = logging.getLogger(__name__)

_LOCAL = service("triton")


class TritonSettings(BaseSettings):
    """Read from `AIOS_TRITON_*` environment variables; the defaults suit the local stack."""

    model_config = SettingsConfigDict(env_prefix="AIOS_TRITON_", extra="ignore", frozen=True)

    host: str = Field(default="127.0.0.1", description="Address the HTTP, gRPC and metrics endpoints bind.")
    http_port: int = Field(default=_LOCAL.port, ge=1, le=65535, description="KServe v2 HTTP port.")
    grpc_port: int = Field(default=_LOCAL.port + 1, ge=1, le=65535, description="KServe v2 gRPC port (beside HTTP).")
    metrics_port: int = Field(
        default=_LOCAL.metrics_port, ge=1, le=65535, description="Triton's Prometheus metrics port."
    )
    max_batch_size: int = Field(
        default=256, ge=1, description="Largest batch Triton hands a model; clients split larger batches."
    )
    max_queue_delay_us: int = Field(
        default=2000, ge=0, description="How long Triton holds a request to merge it with others into one batch."
    )
    top_k: int = Field(default=3, ge=1, le=20, description="Labels with probabilities returned per text.")
    poll_interval_s: float = Field(default=2.0, gt=0, description="How often the registry's alias revision is read.")
    exit_timeout_s: int = Field(default=5, ge=0, description="How long Triton waits for in-flight requests on exit.")


def classifier_callable(model: TextClassifier, k: int) -> Callable[..., dict[str, np.ndarray]]:
    """The inference function Triton calls with the texts of every request it merged into one batch."""

    @batch
    def infer(text: np.ndarray) -> dict[str, np.ndarray]:
        return encode_predictions(model.predict([text_of(value) for value in text[:, 0]], k), k)

    return infer


class ModelServer:
    """One Triton instance kept serving every version that a registry alias points at."""

    def __init__(
        self,
        settings: TritonSettings,
        registry: ModelRegistry,
        store: ArtifactStore,
        model_settings: ModelSettings | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.store = store
        self.model_settings = model_settings or ModelSettings()
        self.served: set[tuple[str, int]] = set()
        self.broken: set[tuple[str, int]] = set()
        self._revision: int | None = None
        self._triton = Triton(
            config=TritonConfig(
                http_address=settings.host,
                http_port=settings.http_port,
                grpc_address=settings.host,
                grpc_port=settings.grpc_port,
                metrics_address=settings.host,
                metrics_port=settings.metrics_port,
                exit_timeout_secs=settings.exit_timeout_s,
                # Ready means "answering": a model that fails to load must not take the others down with it.
                strict_readiness=False,
            )
        )

    def start(self) -> None:
        torch.set_num_threads(self.model_settings.threads)
        self._triton.run()
        logger.info("Triton is serving HTTP on %s:%d", self.settings.host, self.settings.http_port)

    def alive(self) -> bool:
        """False once tritonserver has exited (pytriton then stops); a model that never loaded does not count."""
        return self._triton.is_connected()

    def stop(self) -> None:
        self._triton.stop()

    async def sync(self) -> None:
        """Load the aliased versions not served yet, once per alias revision.

        A version whose artifact cannot be loaded is logged and tried again at the next alias change;
        one that Triton itself rejects stays rejected until the service restarts (see `broken`).
        """
        revision = await self.registry.aliases_revision()
        if revision == self._revision:
            return
        self._revision = revision
        wanted = {(row.name, row.version) for row in await self.registry.aliases()}
        if not wanted:
            logger.info("no model version has an alias yet; waiting for a promotion (`aios model promote`)")
        for name, version in sorted(wanted - self.served):
            if (name, version) in self.broken:
                logger.error("%s:%d failed to load in Triton before; restart the service to retry", name, version)
                continue
            try:
                row = await self.registry.get(name, version)
                model = await asyncio.to_thread(load_version, self.store, row, self.model_settings)
            except InferenceError as exc:
                logger.error("cannot load %s:%d (alias revision %d): %s", name, version, revision, exc)
                continue
            try:
                await asyncio.to_thread(self._bind, row, model)
            except (PyTritonError, InferenceServerException) as exc:
                # pytriton keeps a model whose load failed and refuses the same name again.
                self.broken.add((name, version))
                logger.error("Triton cannot load %s:%d: %s", name, version, exc)
                continue
            self.served.add((name, version))
            logger.info("serving %s:%d as %s", name, version, triton_model_name(name, version))
        retired = self.served - wanted
        if retired:
            logger.info("no longer aliased, still loaded until restart: %s", sorted(retired))

    def _bind(self, row: ModelVersion, model: TextClassifier) -> None:
        k = self.settings.top_k
        self._triton.bind(
            model_name=triton_model_name(row.name, row.version),
            infer_func=classifier_callable(model, k),
            inputs=[Tensor(name=TEXT, dtype=bytes, shape=(1,))],
            outputs=[
                Tensor(name=LABEL, dtype=bytes, shape=(1,)),
                Tensor(name=CONFIDENCE, dtype=np.float32, shape=(1,)),
                Tensor(name=OOS, dtype=np.bool_, shape=(1,)),
                Tensor(name=TOP_LABELS, dtype=bytes, shape=(k,)),
                Tensor(name=TOP_SCORES, dtype=np.float32, shape=(k,)),
            ],
            config=ModelConfig(
                batching=True,
                max_batch_size=self.settings.max_batch_size,
                batcher=DynamicBatcher(max_queue_delay_microseconds=self.settings.max_queue_delay_us),
            ),
            strict=True,
        )


async def serve(settings: TritonSettings, postgres_dsn: str, stop: asyncio.Event) -> None:
    """Run Triton until `stop` is set; raise if tritonserver dies, so the supervisor restarts the service.

    A registry that is briefly unreachable only delays promotions: what is loaded keeps serving.
    """
    async with open_pool(postgres_dsn, max_size=2) as pool:
        await migrate(pool)
        model_settings = ModelSettings()
        server = ModelServer(settings, ModelRegistry(pool), LocalArtifactStore(model_settings.artifact_dir))
        await asyncio.to_thread(server.start)
        try:
            while not stop.is_set():
                if not server.alive():
                    raise InferenceError("tritonserver exited")
                try:
                    await server.sync()
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    logger.warning("cannot read the model registry; serving what is loaded: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), settings.poll_interval_s)
        finally:
            await asyncio.to_thread(server.stop)
