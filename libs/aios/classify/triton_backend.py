"""The Triton backend: the forward pass runs on a Triton Inference Server (`services.triton`).

The server serves every aliased version as `triton_model_name(name, version)` and does the dynamic
batching across workers; this client sends a worker's whole batch as one HTTP request (split,
into requests of similar text length, only where it exceeds the model's `max_batch_size`). A
server that is not there right now is a `TransientError`
(`aios.inference.triton_client.request_failure`), so the consumer loop retries the batch instead
of dead-lettering good events.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence

import numpy as np
import tritonclient.http as triton_http

from aios.classify.routes import ModelRef
from aios.inference.classifier import Prediction
from aios.inference.encoder import length_sorted_batches
from aios.inference.model_registry import ModelVersion
from aios.inference.triton_client import REQUEST_ERRORS, TritonClients, request_failure
from aios.inference.triton_contract import OUTPUT_NAMES, TEXT, decode_predictions, triton_model_name

log = logging.getLogger(__name__)


class TritonBackend:
    """`InferenceBackend` over Triton's HTTP API."""

    name = "triton"

    def __init__(self, url: str, *, timeout_s: float = 60.0, ready_timeout_s: float = 30.0) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.ready_timeout_s = ready_timeout_s
        self._clients = TritonClients(url, timeout_s)
        self._max_batch: dict[str, int] = {}

    def prepare(self, versions: Iterable[ModelVersion], timeout_s: float | None = None) -> set[ModelRef]:
        """The versions the server has ready, waiting up to the timeout for the others (logged when missing).

        The server loads a version within one registry poll of its promotion, so waiting here keeps a
        worker from routing traffic to a model Triton does not have yet.
        """
        timeout = self.ready_timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout
        pending = {triton_model_name(v.name, v.version): ModelRef(v.name, v.version) for v in versions}
        ready: set[ModelRef] = set()
        last_error = ""
        while pending:
            for model in sorted(pending):
                try:
                    if self._clients.get().is_model_ready(model):
                        self._max_batch[model] = self._fetch_max_batch(model)
                        ready.add(pending.pop(model))
                except REQUEST_ERRORS as exc:
                    last_error = f" (last error: {exc!r})"
            if pending and time.monotonic() >= deadline:
                log.error("Triton at %s has no ready %s after %gs%s", self.url, ", ".join(pending), timeout, last_error)
                break
            if pending:
                time.sleep(0.2)
        return ready

    def release(self, keep: set[ModelRef]) -> None:
        """Nothing to free here: the server holds the models (and keeps them until it restarts)."""

    def predict(self, model: ModelRef, texts: Sequence[str], k: int) -> list[Prediction]:
        """One prediction per text, in input order; `k` is capped by the server's `AIOS_TRITON_TOP_K`."""
        if not texts:
            return []
        name = triton_model_name(model.name, model.version)
        try:
            size = self._max_batch.get(name) or self._fetch_max_batch(name)
            if len(texts) <= size:
                return self._infer(name, texts, k)
            # Requests of similar length: the server pads each to its longest text.
            predictions: dict[int, Prediction] = {}
            for positions in length_sorted_batches([len(text) for text in texts], size):
                chunk = self._infer(name, [texts[i] for i in positions], k)
                predictions.update(zip(positions, chunk, strict=True))
        except REQUEST_ERRORS as exc:
            raise request_failure(exc, self.url, name) from exc
        return [predictions[i] for i in range(len(texts))]

    def close(self) -> None:
        self._clients.close()

    def _infer(self, name: str, texts: Sequence[str], k: int) -> list[Prediction]:
        batch = triton_http.InferInput(TEXT, [len(texts), 1], "BYTES")
        batch.set_data_from_numpy(
            np.array([text.encode("utf-8", "replace") for text in texts], dtype=object).reshape(-1, 1)
        )
        result = self._clients.get().infer(
            name, [batch], outputs=[triton_http.InferRequestedOutput(output) for output in OUTPUT_NAMES]
        )
        return decode_predictions({output: result.as_numpy(output) for output in OUTPUT_NAMES}, k)

    def _fetch_max_batch(self, name: str) -> int:
        self._max_batch[name] = max(1, int(self._clients.get().get_model_config(name)["max_batch_size"]))
        return self._max_batch[name]
