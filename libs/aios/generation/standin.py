"""A deterministic stand-in for a generative model, served over a real Triton Inference Server (pytriton).

It answers a prompt of `aios.generation.prompt` the way an instructed model would, without weights:
it picks the passage sentences sharing the most words with the message and writes them after a
greeting, each with its passage's `[n]` marker. Tests and local runs use it to exercise the real
protocol path (tritonclient → tritonserver → Python backend) of the `triton` generator.

`python -m aios.generation.standin` serves it until SIGTERM or SIGINT.
"""

from __future__ import annotations

import logging
import re
import signal

import numpy as np
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from pytriton.decorators import batch
from pytriton.model_config import DynamicBatcher, ModelConfig, Tensor
from pytriton.triton import Triton, TritonConfig

from aios.generation.prompt import PROMPT, REPLY, read_prompt
from aios.inference.triton_contract import text_of
from aios.retrieval.chunking import split_sentences
from aios.runtime.entry import LOG_FORMAT

log = logging.getLogger(__name__)

GREETING = "Thank you for reaching out."
NO_ANSWER = "Thank you for your message. A colleague will follow up with an answer."
_WORD = re.compile(r"[a-z0-9]{4,}")


class StandinSettings(BaseSettings):
    """Read from `AIOS_STANDIN_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="AIOS_STANDIN_", extra="ignore", frozen=True)

    host: str = Field(default="127.0.0.1", description="Address Triton's endpoints bind.")
    http_port: int = Field(default=28110, ge=1, le=65535, description="KServe v2 HTTP port.")
    grpc_port: int = Field(default=28111, ge=1, le=65535, description="KServe v2 gRPC port.")
    metrics_port: int = Field(default=28112, ge=1, le=65535, description="Triton's Prometheus metrics port.")
    model: str = Field(default="drafter-standin", description="Name the model is served under.")
    max_batch_size: int = Field(default=64, ge=1, description="Largest batch Triton hands the model.")
    sentences: int = Field(default=2, ge=1, description="Passage sentences per reply.")


def standin_reply(prompt: str, sentences: int = 2) -> str:
    """The reply: the `sentences` passage sentences with most words in common with the message, in prompt order."""
    parts = read_prompt(prompt)
    wanted = set(_WORD.findall(parts.message.lower()))
    scored = [
        (len(wanted & set(_WORD.findall(sentence.lower()))), number, position, sentence)
        for number, text in sorted(parts.passages.items())
        for position, sentence in enumerate(split_sentences(text))
    ]
    best = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1], s[2]))[:sentences]
    if not best:
        return NO_ANSWER
    chosen = sorted(best, key=lambda s: (s[1], s[2]))
    return " ".join([GREETING, *(f"{sentence} [{number}]" for _, number, _, sentence in chosen)])


def serve(settings: StandinSettings) -> None:
    """Serve until SIGTERM or SIGINT (both end pytriton's serve loop, which stops tritonserver)."""

    @batch
    def infer(prompt: np.ndarray) -> dict[str, np.ndarray]:
        replies = [standin_reply(text_of(row[0]), settings.sentences).encode() for row in prompt]
        return {REPLY: np.array(replies, dtype=object).reshape(-1, 1)}

    signal.signal(signal.SIGTERM, signal.default_int_handler)
    triton = Triton(
        config=TritonConfig(
            http_address=settings.host,
            http_port=settings.http_port,
            grpc_address=settings.host,
            grpc_port=settings.grpc_port,
            metrics_address=settings.host,
            metrics_port=settings.metrics_port,
            exit_timeout_secs=5,
        )
    )
    triton.bind(
        model_name=settings.model,
        infer_func=infer,
        inputs=[Tensor(name=PROMPT, dtype=bytes, shape=(1,))],
        outputs=[Tensor(name=REPLY, dtype=bytes, shape=(1,))],
        config=ModelConfig(batching=True, max_batch_size=settings.max_batch_size, batcher=DynamicBatcher()),
        strict=True,
    )
    log.info("serving %s on http://%s:%d", settings.model, settings.host, settings.http_port)
    triton.serve()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    serve(StandinSettings())


if __name__ == "__main__":
    main()
