"""The Open Inference Protocol (v2 REST) as this endpoint speaks it: messages, and tensors in and out.

Texts arrive as one BYTES tensor named `text`, in JSON or in the binary tensor extension that
standard clients (`tritonclient.http`) use by default: a JSON header of `Inference-Header-Content-Length`
bytes followed by the raw tensors. Answers use the output names of the Triton contract
(`aios.inference.triton_contract`) plus `model_version`, in JSON or binary as each output was asked for.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from tritonclient.utils import deserialize_bytes_tensor, np_to_triton_dtype, serialize_byte_tensor

from aios.infer.errors import InvalidInference
from aios.inference.classifier import Prediction
from aios.inference.triton_contract import OUTPUT_NAMES, TEXT, encode_predictions

MODEL_VERSION = "model_version"
OUTPUTS = (*OUTPUT_NAMES, MODEL_VERSION)
HEADER_LENGTH = "Inference-Header-Content-Length"
BINARY_MEDIA_TYPE = "application/octet-stream"


class _Message(BaseModel):
    # `model_name` and `model_version` are the protocol's names.
    model_config = ConfigDict(protected_namespaces=(), extra="ignore")


class RequestInput(_Message):
    name: str = Field(description=f"`{TEXT}`: the only input.")
    shape: list[int] = Field(description="`[n]` or `[n, 1]` for n texts.")
    datatype: str = Field(description="`BYTES`.")
    parameters: dict[str, Any] | None = Field(
        default=None, description="`binary_data_size`: the tensor is that many bytes after the JSON header."
    )
    data: list[Any] | None = Field(default=None, description="The texts (flat or nested), unless sent binary.")


class RequestOutput(_Message):
    name: str = Field(description=f"One of {', '.join(OUTPUTS)}.")
    parameters: dict[str, Any] | None = Field(default=None, description="`binary_data`: answer it binary.")


class InferenceRequest(_Message):
    id: str | None = Field(
        default=None,
        max_length=128,
        description="Echoed back; also picks the canary share, so a retried id reaches the same version.",
    )
    parameters: dict[str, Any] | None = Field(
        default=None, description="`top_k`: labels per text; `binary_data_output`: every output binary."
    )
    inputs: list[RequestInput]
    outputs: list[RequestOutput] | None = Field(default=None, description="Outputs wanted; default: all.")


class ResponseOutput(_Message):
    name: str
    shape: list[int]
    datatype: str
    parameters: dict[str, Any] | None = None
    data: list[Any] | None = None


class InferenceResponse(_Message):
    model_name: str
    model_version: str | None = None
    id: str | None = None
    parameters: dict[str, Any] | None = Field(default=None, description="`alias`: production, or canary.")
    outputs: list[ResponseOutput]


class TensorMetadata(_Message):
    name: str
    datatype: str
    shape: list[int]


class ModelMetadata(_Message):
    name: str
    versions: list[str] = Field(description="The versions that may answer this tenant (production, canary).")
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class ServerMetadata(_Message):
    name: str
    version: str
    extensions: list[str]


class Live(_Message):
    live: bool


class Ready(_Message):
    ready: bool


class ModelReady(_Message):
    name: str
    ready: bool


class ErrorAnswer(_Message):
    error: str = Field(description="Why the request was not answered.")


INPUTS_METADATA = [TensorMetadata(name=TEXT, datatype="BYTES", shape=[-1, 1])]
OUTPUTS_METADATA = [
    TensorMetadata(name=name, datatype=datatype, shape=shape)
    for name, datatype, shape in (
        ("label", "BYTES", [-1, 1]),
        ("confidence", "FP32", [-1, 1]),
        ("oos", "BOOL", [-1, 1]),
        ("top_labels", "BYTES", [-1, -1]),
        ("top_scores", "FP32", [-1, -1]),
        (MODEL_VERSION, "INT64", [-1, 1]),
    )
]


@dataclass(frozen=True)
class Limits:
    max_texts: int
    max_text_chars: int
    default_top_k: int
    max_top_k: int


@dataclass(frozen=True)
class Ask:
    """What one infer request asks for, read and checked."""

    texts: list[str]
    top_k: int
    request_id: str | None
    outputs: list[tuple[str, bool]]
    """Output names in answer order, each with whether it goes binary."""


def read_request(body: bytes, header_length: str | None, limits: Limits) -> Ask:
    """An infer request's body (JSON, or JSON header + binary tensors); `InvalidInference` says what is wrong."""
    header, binary = _split_body(body, header_length)
    try:
        request = InferenceRequest.model_validate_json(header)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()[:5])
        raise InvalidInference(f"not an inference request: {problems}") from exc
    if len(request.inputs) != 1 or request.inputs[0].name != TEXT:
        raise InvalidInference(f"send exactly one input, named {TEXT!r}")
    texts = _texts(request.inputs[0], binary, limits)
    parameters = request.parameters or {}
    top_k = parameters.get("top_k", limits.default_top_k)
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= limits.max_top_k:
        raise InvalidInference(f"parameter top_k must be an integer from 1 to {limits.max_top_k}")
    return Ask(texts, top_k, request.id, _outputs(request, parameters))


def _split_body(body: bytes, header_length: str | None) -> tuple[bytes, bytes]:
    if header_length is None:
        return body, b""
    if not header_length.isdigit() or int(header_length) > len(body):
        raise InvalidInference(f"{HEADER_LENGTH} must be a whole number no larger than the body ({len(body)} bytes)")
    return body[: int(header_length)], body[int(header_length) :]


def _texts(tensor: RequestInput, binary: bytes, limits: Limits) -> list[str]:
    if tensor.datatype != "BYTES":
        raise InvalidInference(f"input {TEXT!r} must have datatype BYTES, not {tensor.datatype!r}")
    shape = tensor.shape
    if not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)) or shape[0] < 1:
        raise InvalidInference(f"input {TEXT!r} must have shape [n] or [n, 1] with n >= 1, not {shape}")
    count = shape[0]
    if count > limits.max_texts:
        raise InvalidInference(f"at most {limits.max_texts} texts per request, not {count}")
    size = (tensor.parameters or {}).get("binary_data_size")
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, int) or size != len(binary):
            raise InvalidInference(f"binary_data_size must be the {len(binary)} bytes after the JSON header")
        values = _binary_texts(binary)
    elif binary:
        raise InvalidInference(f"{len(binary)} bytes follow the JSON header but no input declares binary_data_size")
    elif tensor.data is None:
        raise InvalidInference(f"input {TEXT!r} has no data")
    else:
        values = _flatten(tensor.data)
    if len(values) != count:
        raise InvalidInference(f"input {TEXT!r} has {len(values)} elements, its shape says {count}")
    if not all(isinstance(value, str) for value in values):
        raise InvalidInference(f"every element of {TEXT!r} must be a string")
    longest = max(len(value) for value in values)
    if longest > limits.max_text_chars:
        raise InvalidInference(f"a text has {longest} characters, at most {limits.max_text_chars} are taken")
    return values


def _binary_texts(binary: bytes) -> list[Any]:
    if not binary:
        return []
    try:
        elements = deserialize_bytes_tensor(binary)
    except (struct.error, ValueError) as exc:
        raise InvalidInference(f"the binary tensor is not length-prefixed BYTES: {exc}") from exc
    try:
        return [bytes(element).decode("utf-8") for element in elements]
    except UnicodeDecodeError as exc:
        raise InvalidInference(f"a text is not UTF-8: {exc}") from exc


def _flatten(data: list[Any]) -> list[Any]:
    """OIP tensors may be nested row-major lists; shape [n, 1] often arrives as [[a], [b]]."""
    flat: list[Any] = []
    for item in data:
        if isinstance(item, list):
            flat.extend(_flatten(item))
        else:
            flat.append(item)
    return flat


def _outputs(request: InferenceRequest, parameters: dict[str, Any]) -> list[tuple[str, bool]]:
    all_binary = parameters.get("binary_data_output") is True
    if request.outputs is None:
        return [(name, all_binary) for name in OUTPUTS]
    wanted = []
    for output in request.outputs:
        if output.name not in OUTPUTS:
            raise InvalidInference(f"no output {output.name!r}; this model has {', '.join(OUTPUTS)}")
        wanted.append((output.name, (output.parameters or {}).get("binary_data", all_binary) is True))
    return wanted


def output_tensors(predictions: Sequence[Prediction], top_k: int, version: int) -> dict[str, np.ndarray]:
    """Every output tensor, one row per text (top lists padded with "" and 0 to `top_k`)."""
    return {
        **encode_predictions(predictions, top_k),
        MODEL_VERSION: np.full((len(predictions), 1), version, dtype=np.int64),
    }


def write_response(
    response: InferenceResponse, tensors: dict[str, np.ndarray], outputs: Sequence[tuple[str, bool]]
) -> tuple[bytes, dict[str, str]]:
    """The answer's body and the headers it needs: JSON, or a JSON header + binary tensors when any is binary."""
    blobs = []
    for name, binary in outputs:
        tensor = tensors[name]
        output = ResponseOutput(name=name, shape=list(tensor.shape), datatype=str(np_to_triton_dtype(tensor.dtype)))
        if binary:
            blob = _tensor_bytes(tensor)
            output.parameters = {"binary_data_size": len(blob)}
            blobs.append(blob)
        else:
            output.data = [_json_value(value) for value in tensor.reshape(-1).tolist()]
        response.outputs.append(output)
    header = json.dumps(response.model_dump(exclude_none=True), separators=(",", ":")).encode()
    if not blobs:
        return header, {"content-type": "application/json"}
    return header + b"".join(blobs), {"content-type": BINARY_MEDIA_TYPE, HEADER_LENGTH: str(len(header))}


def _tensor_bytes(tensor: np.ndarray) -> bytes:
    if tensor.dtype == np.object_:
        serialized = serialize_byte_tensor(tensor)
        return serialized.item() if serialized.size else b""
    return tensor.astype(tensor.dtype.newbyteorder("<")).tobytes()


def _json_value(value: Any) -> Any:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value
