"""The Triton wire contract without a server: model names, tensors both ways, and what a failure means."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime

import numpy as np
import pytest
from tritonclient.utils import InferenceServerException

from aios.classify.routes import ModelRef
from aios.classify.triton_backend import TritonBackend
from aios.inference.classifier import Prediction
from aios.inference.errors import InferenceError
from aios.inference.model_registry import ModelVersion
from aios.inference.triton_client import request_failure
from aios.inference.triton_contract import (
    CONFIDENCE,
    LABEL,
    OOS,
    TOP_LABELS,
    TOP_SCORES,
    decode_predictions,
    encode_predictions,
    triton_model_name,
)
from aios.kafka.errors import TransientError


def test_model_names_keep_to_tritons_alphabet() -> None:
    assert triton_model_name("intents", 3) == "intents-v3"
    assert triton_model_name("acme/intents v2", 1) == "acme_intents_v2-v1"
    assert re.fullmatch(r"[A-Za-z0-9._-]+", triton_model_name("ünï:code", 12))


def test_predictions_survive_the_round_trip() -> None:
    predictions = [
        Prediction("café", 0.875, [("café", 0.875), ("bill", 0.1), ("oos", 0.025)], False),
        Prediction("oos", 0.6, [("bill", 0.3), ("café", 0.1)], True),  # fewer labels than k
    ]
    tensors = encode_predictions(predictions, 3)
    assert {name: array.shape for name, array in tensors.items()} == {
        LABEL: (2, 1),
        CONFIDENCE: (2, 1),
        OOS: (2, 1),
        TOP_LABELS: (2, 3),
        TOP_SCORES: (2, 3),
    }
    assert tensors[CONFIDENCE].dtype == np.float32 and tensors[OOS].dtype == np.bool_
    decoded = decode_predictions(tensors, 3)
    assert [(p.label, p.oos, [label for label, _ in p.top_k]) for p in decoded] == [
        ("café", False, ["café", "bill", "oos"]),
        ("oos", True, ["bill", "café"]),
    ]
    for sent, received in zip(predictions, decoded, strict=True):
        assert received.confidence == pytest.approx(sent.confidence, abs=1e-6)
        assert [score for _, score in received.top_k] == pytest.approx([score for _, score in sent.top_k], abs=1e-6)
    assert [len(p.top_k) for p in decode_predictions(tensors, 1)] == [1, 1]
    assert decode_predictions(encode_predictions([], 3), 3) == []


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ConnectionRefusedError(111, "refused"), TransientError),
        (InferenceServerException("unavailable", status="503"), TransientError),
        (InferenceServerException("Request for unknown model: 'm-v1' is not found", status="400"), TransientError),
        (InferenceServerException("unexpected shape for input 'text'", status="400"), InferenceError),
        (InferenceServerException("Failed to process the request(s)", status="500"), InferenceError),
    ],
)
def test_failures_that_a_retry_can_fix_are_transient(error: Exception, expected: type[Exception]) -> None:
    assert type(request_failure(error, "http://triton", "m-v1")) is expected


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_unreachable_server() -> None:
    backend = TritonBackend(_closed_port_url(), timeout_s=2)
    version = ModelVersion("m", 1, "file:///nowhere", "", {}, ["a", "b"], datetime.now(UTC))
    try:
        with pytest.raises(TransientError):
            backend.predict(ModelRef("m", 1), ["hello"], 3)
        assert backend.prepare([version], timeout_s=0.3) == set(), "nothing is servable"
        assert backend.predict(ModelRef("m", 1), [], 3) == []
    finally:
        backend.close()
