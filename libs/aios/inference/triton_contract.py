"""The wire contract between `services.triton` and `aios.classify.triton_backend`: names and tensors.

Kept apart from the server so a worker using the Triton backend does not import pytriton.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from aios.inference.classifier import Prediction

# The wire contract between this server and `aios.classify.triton_backend`.
TEXT = "text"
LABEL = "label"
CONFIDENCE = "confidence"
OOS = "oos"
TOP_LABELS = "top_labels"
TOP_SCORES = "top_scores"
OUTPUT_NAMES = (LABEL, CONFIDENCE, OOS, TOP_LABELS, TOP_SCORES)

_NOT_TRITON = re.compile(r"[^A-Za-z0-9._-]")


def triton_model_name(name: str, version: int) -> str:
    """Triton model name of a registry version; Triton allows only letters, digits, `.`, `_` and `-`."""
    return f"{_NOT_TRITON.sub('_', name)}-v{version}"


def encode_predictions(predictions: Sequence[Prediction], k: int) -> dict[str, np.ndarray]:
    """Output tensors, one row per prediction; top lists shorter than `k` are padded with ("", 0.0)."""
    top_labels = np.full((len(predictions), k), b"", dtype=object)
    top_scores = np.zeros((len(predictions), k), dtype=np.float32)
    for row, prediction in enumerate(predictions):
        for column, (label, score) in enumerate(prediction.top_k[:k]):
            top_labels[row, column] = label.encode()
            top_scores[row, column] = score
    return {
        LABEL: np.array([[p.label.encode()] for p in predictions], dtype=object).reshape(-1, 1),
        CONFIDENCE: np.array([p.confidence for p in predictions], dtype=np.float32).reshape(-1, 1),
        OOS: np.array([p.oos for p in predictions], dtype=np.bool_).reshape(-1, 1),
        TOP_LABELS: top_labels,
        TOP_SCORES: top_scores,
    }


def decode_predictions(outputs: dict[str, np.ndarray], k: int) -> list[Prediction]:
    """`Prediction`s from output tensors, in row order, dropping the padding of short top lists."""
    predictions = []
    for row in range(len(outputs[LABEL])):
        top = [
            (text_of(label), float(score))
            for label, score in zip(outputs[TOP_LABELS][row][:k], outputs[TOP_SCORES][row][:k], strict=True)
            if text_of(label)
        ]
        predictions.append(
            Prediction(
                text_of(outputs[LABEL][row][0]), float(outputs[CONFIDENCE][row][0]), top, bool(outputs[OOS][row][0])
            )
        )
    return predictions


def text_of(value: bytes | str) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
