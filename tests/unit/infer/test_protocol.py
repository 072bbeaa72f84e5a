"""Open Inference Protocol messages as tritonclient builds and reads them, and every refusal's reason."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tritonclient.http as triton_http

from aios.infer.errors import InvalidInference
from aios.infer.protocol import (
    OUTPUTS,
    InferenceResponse,
    Limits,
    output_tensors,
    read_request,
    write_response,
)
from aios.inference.classifier import Prediction
from aios.inference.triton_contract import text_of

LIMITS = Limits(max_texts=4, max_text_chars=20, default_top_k=3, max_top_k=5)
PREDICTIONS = [
    Prediction("balance", 0.9, [("balance", 0.9), ("transfer", 0.05)], False),
    Prediction("oos", 0.7, [("oos", 0.7), ("balance", 0.2)], True),
]


def tritonclient_body(texts: list[str], binary: bool, **kwargs: object) -> tuple[bytes, int | None]:
    tensor = triton_http.InferInput("text", [len(texts), 1], "BYTES")
    tensor.set_data_from_numpy(np.array([t.encode() for t in texts], dtype=object).reshape(-1, 1), binary_data=binary)
    body, header_length = triton_http.InferenceServerClient.generate_request_body([tensor], **kwargs)
    return body, header_length


@pytest.mark.parametrize("binary", [True, False])
def test_reads_what_tritonclient_sends(binary: bool) -> None:
    body, header_length = tritonclient_body(
        ["héllo", "world"],
        binary,
        outputs=[triton_http.InferRequestedOutput("label", binary_data=binary)],
        request_id="r-1",
        parameters={"top_k": 2},
    )
    ask = read_request(body, None if header_length is None else str(header_length), LIMITS)
    assert (ask.texts, ask.top_k, ask.request_id, ask.outputs) == (["héllo", "world"], 2, "r-1", [("label", binary)])


def test_no_outputs_named_means_every_output_binary_as_tritonclient_asks() -> None:
    body, header_length = tritonclient_body(["a"], True)
    assert read_request(body, str(header_length), LIMITS).outputs == [(name, True) for name in OUTPUTS]


@pytest.mark.parametrize("binary", [True, False])
def test_tritonclient_reads_the_answer(binary: bool) -> None:
    body, headers = write_response(
        InferenceResponse(model_name="intents", model_version="4", id="r-1", outputs=[]),
        output_tensors(PREDICTIONS, 3, 4),
        [(name, binary) for name in OUTPUTS],
    )
    length = headers.get("Inference-Header-Content-Length")
    result = triton_http.InferenceServerClient.parse_response_body(
        body, header_length=None if length is None else int(length)
    )
    # tritonclient gives BYTES read from JSON as str, from binary as bytes.
    assert [text_of(v) for v in result.as_numpy("label").reshape(-1)] == ["balance", "oos"]
    assert result.as_numpy("oos").reshape(-1).tolist() == [False, True]
    assert result.as_numpy("confidence").reshape(-1) == pytest.approx([0.9, 0.7])
    assert [[text_of(v) for v in row] for row in result.as_numpy("top_labels")] == [
        ["balance", "transfer", ""],
        ["oos", "balance", ""],
    ]
    assert result.as_numpy("top_scores").shape == (2, 3)
    assert result.as_numpy("model_version").reshape(-1).tolist() == [4, 4]
    assert result.get_response()["model_version"] == "4"


def request(**tensor: object) -> bytes:
    text = {"name": "text", "shape": [1], "datatype": "BYTES", "data": ["hi"]} | tensor
    return json.dumps({"inputs": [text]}).encode()


@pytest.mark.parametrize(
    ("body", "header_length", "reason"),
    [
        (b"[]", None, "not an inference request"),
        (json.dumps({"inputs": []}).encode(), None, "exactly one input"),
        (request(name="image"), None, "exactly one input"),
        (request(datatype="FP32"), None, "datatype BYTES"),
        (request(shape=[1, 2]), None, "shape [n] or [n, 1]"),
        (request(shape=[0], data=[]), None, "n >= 1"),
        (request(shape=[5], data=["a"] * 5), None, "at most 4 texts"),
        (request(shape=[2]), None, "has 1 elements, its shape says 2"),
        (request(data=[3]), None, "must be a string"),
        (request(data=["x" * 21]), None, "at most 20 are taken"),
        (request(data=None), None, "has no data"),
        (request(), "999", "Inference-Header-Content-Length"),
        (request(), "-1", "Inference-Header-Content-Length"),
        (request(data=None, parameters={"binary_data_size": 3}), None, "binary_data_size"),
    ],
)
def test_refuses_with_the_reason(body: bytes, header_length: str | None, reason: str) -> None:
    with pytest.raises(InvalidInference, match=reason.replace("[", r"\[").replace("]", r"\]")):
        read_request(body, header_length, LIMITS)


def test_refuses_bad_binary_tensors_and_parameters() -> None:
    header = json.dumps(
        {"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "parameters": {"binary_data_size": 5}}]}
    ).encode()
    with pytest.raises(InvalidInference, match="length-prefixed"):
        read_request(header + b"\x09\x00\x00\x00a", str(len(header)), LIMITS)
    with pytest.raises(InvalidInference, match="not UTF-8"):
        read_request(header + b"\x01\x00\x00\x00\xff", str(len(header)), LIMITS)
    with pytest.raises(InvalidInference, match="top_k"):
        read_request(
            json.dumps({"inputs": [json.loads(request())["inputs"][0]], "parameters": {"top_k": 6}}).encode(),
            None,
            LIMITS,
        )
    with pytest.raises(InvalidInference, match="no output 'embedding'"):
        read_request(
            json.dumps({"inputs": json.loads(request())["inputs"], "outputs": [{"name": "embedding"}]}).encode(),
            None,
            LIMITS,
        )
