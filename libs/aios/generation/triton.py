"""The Triton generator: prompts go to a generative model on a Triton Inference Server through `tritonclient`.

A batch of requests is one HTTP inference call (split where it exceeds the model's `max_batch_size`);
Triton batches across workers. An unreachable or overloaded server is a `TransientError`, so the
consumer loop retries the batch rather than dead-lettering good events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
import tritonclient.http as triton_http

from aios.generation.base import Draft, DraftRequest
from aios.generation.errors import GenerationError
from aios.generation.prompt import PROMPT, REPLY, build_prompt, parse_reply
from aios.inference.triton_client import REQUEST_ERRORS, TritonClients, request_failure
from aios.inference.triton_contract import text_of

T = TypeVar("T")


class TritonGenerator:
    name = "triton"

    def __init__(self, url: str, model: str, *, timeout_s: float = 60.0) -> None:
        self.url = url
        self.model = model
        self.timeout_s = timeout_s
        self._clients = TritonClients(url, timeout_s)
        self._max_batch: int | None = None
        self._version: str | None = None

    @property
    def version(self) -> str:
        """The served model's name and version as Triton reports them (`model:1`)."""
        if self._version is None:
            self._call(self._read_config)
        return self._version or self.model

    def generate(self, requests: Sequence[DraftRequest]) -> list[Draft | None]:
        if not requests:
            return []
        prompts = [build_prompt(request) for request in requests]
        replies = self._call(lambda: self._infer(prompts))
        drafts: list[Draft | None] = []
        for request, reply in zip(requests, replies, strict=True):
            text, citations = parse_reply(reply, request.passages)
            drafts.append(Draft(text, citations, self.name, self.version) if text else None)
        return drafts

    def _call(self, work: Callable[[], T]) -> T:
        try:
            return work()
        except REQUEST_ERRORS as exc:
            raise request_failure(exc, self.url, self.model) from exc

    def _infer(self, prompts: list[str]) -> list[str]:
        if self._max_batch is None:
            self._read_config()
        size = self._max_batch or 1
        replies: list[str] = []
        for start in range(0, len(prompts), size):
            part = prompts[start : start + size]
            tensor = triton_http.InferInput(PROMPT, [len(part), 1], "BYTES")
            tensor.set_data_from_numpy(np.array([p.encode("utf-8") for p in part], dtype=object).reshape(-1, 1))
            result = self._clients.get().infer(self.model, [tensor], outputs=[triton_http.InferRequestedOutput(REPLY)])
            out = result.as_numpy(REPLY)
            if out is None or len(out) != len(part):
                raise GenerationError(f"{self.model} on {self.url} answered {0 if out is None else len(out)} replies")
            replies += [text_of(row[0]) for row in out]
        return replies

    def _read_config(self) -> None:
        client = self._clients.get()
        self._max_batch = max(1, int(client.get_model_config(self.model)["max_batch_size"]))
        versions = client.get_model_metadata(self.model).get("versions") or ["1"]
        self._version = f"{self.model}:{versions[-1]}"
