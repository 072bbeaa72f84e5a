"""Chunk and query embeddings with the project's all-MiniLM-L6-v2 encoder, stored as float32 bytes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from aios.inference.encoder import SentenceEncoder, resolve_device
from aios.inference.settings import ModelSettings


def load_encoder(settings: ModelSettings | None = None) -> SentenceEncoder:
    """The sentence encoder on the configured device (fp16 on CUDA), with the configured torch threads."""
    settings = settings or ModelSettings()
    torch.set_num_threads(settings.threads)
    encoder = SentenceEncoder.load(settings.encoder_dir, max_length=settings.max_length)
    return encoder.to_device(resolve_device(settings.device))


def chunk_inputs(title: str, chunks: Sequence[str]) -> list[str]:
    """What is embedded for each chunk: the document title gives a short chunk its topic."""
    return [f"{title}: {chunk}" for chunk in chunks]


def to_bytes(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def from_bytes(rows: Sequence[bytes], dim: int) -> np.ndarray:
    """A (len(rows), dim) float32 matrix; an empty knowledge base gives (0, dim)."""
    if not rows:
        return np.zeros((0, dim), dtype=np.float32)
    return np.frombuffer(b"".join(rows), dtype="<f4").reshape(len(rows), dim).astype(np.float32)
