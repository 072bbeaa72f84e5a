"""Errors of the inference service; each is an HTTP answer with its reason (the protocol's `{"error": ...}`)."""

from __future__ import annotations

from aios.errors import AiosError, Refused


class InferError(AiosError):
    """Something the model endpoint could not do."""


class InvalidInference(InferError, Refused):
    """The request does not say what to infer in a form this endpoint reads."""

    status = 400


class BodyTooLarge(InvalidInference):
    status = 413


class UnknownModel(InferError, Refused):
    """No such model for this tenant: neither a global alias nor one of the tenant's own."""

    status = 404


class Overloaded(InferError, Refused):
    """The batch queue is full: the caller should come back after `Retry-After` seconds."""

    status = 429

    def __init__(self, reason: str, retry_after_s: int) -> None:
        super().__init__(reason, {"Retry-After": str(retry_after_s)})


class NotServing(InferError, Refused):
    """The model cannot answer now (registry not read yet, backend unreachable); retrying later can succeed."""

    status = 503

    def __init__(self, reason: str, retry_after_s: int) -> None:
        super().__init__(reason, {"Retry-After": str(retry_after_s)})


class BatchFailed(InferError, Refused):
    """The batch a request was in failed; every member gets the reason."""

    status = 500
