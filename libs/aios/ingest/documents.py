"""`POST /v1/documents` and `POST /v1/webhooks/{source}/documents`: a file to the object store, a reference to Kafka.

The answers are those of `/v1/events` (same auth, quotas, Idempotency-Key, `Prefer: wait`, refusals); what is
new is the order of the steps: the file is read up to its limit, its real type and pages checked
(`document_files`), the bytes stored, and only then the reference produced. A 202 means both the
object store and every in-sync replica have acknowledged; a failure before that leaves at most an
object nothing refers to (content-addressed, so a retry rewrites the same one).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import Field, TypeAdapter, ValidationError
from starlette.datastructures import UploadFile
from starlette.requests import Request as StarletteRequest
from starlette.types import Message

from aios.ingest.accept import Submission
from aios.ingest.document_files import MEDIA_TYPES, FileFacts, inspect_file
from aios.ingest.errors import (
    InvalidEvent,
    PayloadTooLarge,
    RequestTimeout,
    StoreUnavailable,
    UnsupportedMediaType,
)
from aios.ingest.models import REFUSALS, Accepted, AttributeKey, AttributeValue, EventOutcome, Problem, SourceRef
from aios.ingest.parts import IngestParts
from aios.ingest.routes import Parts
from aios.ingest.settings import IngestSettings
from aios.ingest.submissions import (
    IDEMPOTENCY_KEY_MAX_LENGTH,
    PREFER_HEADER,
    PREFERENCE_APPLIED,
    SOURCE_PATTERN,
    checked_source,
    idempotency_key_of,
    read_body,
    verify_webhook,
)
from aios.objects.errors import ObjectStoreError
from aios.schemas.records import DocumentReceived, DocumentRef, TraceContext
from aios.tenants.signatures import SIGNATURE_HEADER

log = logging.getLogger(__name__)

router = APIRouter()

DeclaredType = Literal["invoice", "claim", "auto"]
_FORM_OVERHEAD_BYTES = 256 * 1024
"""Room in a request for the form's other fields and the multipart framing, beside the file."""
_ATTRIBUTES = TypeAdapter(Annotated[dict[AttributeKey, AttributeValue], Field(max_length=64)])
_DECLARED_TYPE: TypeAdapter[DeclaredType] = TypeAdapter(DeclaredType)
_SOURCE_REF = TypeAdapter(SourceRef)


def _settings(request: Request) -> IngestSettings:
    settings: IngestSettings = request.app.state.settings
    return settings


_MULTIPART_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file", "type"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": f"{', '.join(MEDIA_TYPES)}; at most 20 MiB and 50 pages by default.",
                    },
                    "type": {"type": "string", "enum": ["invoice", "claim", "auto"]},
                    "attributes": {
                        "type": "string",
                        "description": 'A JSON object of strings (at most 64), e.g. `{"customer": "C-1"}`.',
                    },
                    "source_ref": {"type": "string", "maxLength": 256, "description": "The sender's own id."},
                },
            },
            "encoding": {"file": {"contentType": ", ".join(MEDIA_TYPES)}},
        }
    },
}
_REFUSALS = {
    **REFUSALS,
    413: "The file is larger, or has more pages, than the configured limits.",
    415: "The file is not a PDF, PNG, JPEG or TIFF by its content, or not the type it was sent as;"
    " or the request is not multipart/form-data.",
    422: "The Idempotency-Key was used for a different request; or the file is encrypted, corrupt, has no pages"
    " or would decode to too many pixels.",
    503: "Kafka did not acknowledge, or the object store, Redis or PostgreSQL is unreachable; nothing was"
    " accepted. See Retry-After.",
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": EventOutcome,
        "description": "Accepted, and the document reached an outcome within the `Prefer: wait=N` asked for.",
        "headers": {"Preference-Applied": PREFERENCE_APPLIED},
    },
    202: {"headers": {"Preference-Applied": PREFERENCE_APPLIED}},
    **{status: {"model": Problem, "description": reason} for status, reason in _REFUSALS.items()},
}
_IDEMPOTENCY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": "Retries with the same key within 24 h get the same event.",
    "schema": {"type": "string", "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH},
}


@router.post(
    "/v1/documents",
    status_code=202,
    response_model=Accepted,
    response_description="Accepted: the document is in the object store and its reference in Kafka.",
    responses=_RESPONSES,
    summary="Submit a document (API key)",
    operation_id="submit_document",
    openapi_extra={
        "requestBody": _MULTIPART_BODY,
        "parameters": [
            {
                "in": "header",
                "name": "Authorization",
                "required": False,
                "description": "`Bearer <api key>`",
                "schema": {"type": "string"},
            },
            _IDEMPOTENCY,
            PREFER_HEADER,
        ],
    },
)
async def submit_document(request: Request, parts: Parts) -> JSONResponse:
    settings = _settings(request)
    key = idempotency_key_of(request.headers)
    tenant = await parts.auth.tenant(request.headers.get("authorization"))
    body = await _read_upload(request, settings)
    upload = await _parse_form(request, body)
    event_id = await _accept(
        parts, settings, upload, tenant_id=tenant.tenant_id, source="api", route="/v1/documents", idempotency_key=key
    )
    return (await parts.answers.answer(event_id, tenant.tenant_id, request.headers)).response()


@router.post(
    "/v1/webhooks/{source}/documents",
    status_code=202,
    response_model=Accepted,
    response_description="Accepted: the document is in the object store and its reference in Kafka.",
    responses=_RESPONSES,
    summary="Submit a document (signed webhook)",
    operation_id="submit_webhook_document",
    openapi_extra={
        "requestBody": _MULTIPART_BODY,
        "parameters": [
            {
                "in": "header",
                "name": SIGNATURE_HEADER,
                "required": False,
                "description": '`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw multipart body>">`',
                "schema": {"type": "string"},
            },
            _IDEMPOTENCY,
            PREFER_HEADER,
        ],
    },
)
async def submit_webhook_document(
    request: Request, parts: Parts, source: str = Path(pattern=SOURCE_PATTERN)
) -> JSONResponse:
    settings = _settings(request)
    checked_source(source)
    key = idempotency_key_of(request.headers)
    body = await _read_upload(request, settings)
    tenant_id, key = await verify_webhook(parts, settings, source, request.headers, body, key)
    upload = await _parse_form(request, body)
    route = f"/v1/webhooks/{source}/documents"
    event_id = await _accept(
        parts, settings, upload, tenant_id=tenant_id, source=f"webhook:{source}", route=route, idempotency_key=key
    )
    return (await parts.answers.answer(event_id, tenant_id, request.headers)).response()


@dataclass(frozen=True)
class _Upload:
    """The form's fields, checked."""

    data: bytes
    declared_media_type: str | None
    declared_type: DeclaredType
    attributes: dict[str, str]
    source_ref: str | None


async def _read_upload(request: Request, settings: IngestSettings) -> bytes:
    """The raw multipart body, refused early when it is not multipart (415), too large (413) or too slow (408)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "multipart/form-data":
        raise UnsupportedMediaType("send the document as multipart/form-data")
    limit = settings.documents_max_bytes + _FORM_OVERHEAD_BYTES
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the document is larger than {settings.documents_max_bytes} bytes")
    timeout_s = settings.documents_body_timeout_s
    try:
        async with asyncio.timeout(timeout_s):
            return await read_body(request.receive, limit)
    except TimeoutError:
        raise RequestTimeout(f"the body did not arrive within {timeout_s:g} s", {"Connection": "close"}) from None


async def _parse_form(request: Request, body: bytes) -> _Upload:
    """The form's fields from the body already read (each named in a 400 when wrong)."""

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await StarletteRequest(request.scope, replay).form(max_files=1, max_fields=8)
    except Exception as exc:  # python-multipart's and Starlette's parse errors have no common base
        raise InvalidEvent(
            [{"loc": ["body"], "msg": f"not a valid multipart body: {exc}", "type": "multipart"}]
        ) from None
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise _invalid("file", "a file part named `file` is required", "missing")
    declared_type = _field(_DECLARED_TYPE, form.get("type"), "type")
    raw_attributes = form.get("attributes")
    attributes: dict[str, str] = {}
    if raw_attributes is not None:
        if not isinstance(raw_attributes, str):
            raise _invalid("attributes", "a JSON object of strings", "json_type")
        try:
            parsed = json.loads(raw_attributes)
        except json.JSONDecodeError:
            raise _invalid("attributes", "a JSON object of strings", "json_invalid") from None
        attributes = _field(_ATTRIBUTES, parsed, "attributes")
    source_ref = form.get("source_ref")
    if source_ref is not None:
        source_ref = _field(_SOURCE_REF, source_ref, "source_ref")
    data = await file.read()
    await form.close()
    return _Upload(data, file.content_type, declared_type, attributes, source_ref)


def _field(adapter: TypeAdapter[Any], value: Any, name: str) -> Any:
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        raise InvalidEvent(exc.errors(), "body", name) from None


def _invalid(name: str, message: str, kind: str) -> InvalidEvent:
    return InvalidEvent([{"loc": ["body", name], "msg": message, "type": kind}])


async def _accept(
    parts: IngestParts,
    settings: IngestSettings,
    upload: _Upload,
    *,
    tenant_id: str,
    source: str,
    route: str,
    idempotency_key: str | None,
) -> str:
    """Quota, the file's checks, the object stored, then the reference delivered as an event is: its event id."""
    acceptor = parts.acceptor
    await acceptor.take_quota(tenant_id)
    if len(upload.data) > settings.documents_max_bytes:
        raise PayloadTooLarge(f"the document is larger than {settings.documents_max_bytes} bytes")
    facts: FileFacts = await asyncio.to_thread(
        inspect_file,
        upload.data,
        upload.declared_media_type,
        max_pages=settings.documents_max_pages,
        max_pixels=settings.documents_max_pixels,
    )
    try:
        stored = await parts.documents.put(tenant_id, upload.data, facts.media_type)
    except ObjectStoreError as exc:
        log.warning("document of tenant %s not stored: %s", tenant_id, exc)
        raise StoreUnavailable("the object store did not take the document; retry", {"Retry-After": "1"}) from exc
    reference = DocumentRef(
        tenant_id=tenant_id,
        sha256=stored.sha256,
        media_type=facts.media_type,
        size_bytes=stored.size_bytes,
        pages=facts.pages,
        bucket=stored.bucket,
        object_key=stored.object_key,
    )
    # What identifies the request for its Idempotency-Key: not the multipart framing, which differs per retry.
    identity = json.dumps(
        {
            "sha256": stored.sha256,
            "type": upload.declared_type,
            "attributes": upload.attributes,
            "source_ref": upload.source_ref,
        },
        sort_keys=True,
    ).encode()
    submission = Submission(tenant_id, identity, source=source, route=route, idempotency_key=idempotency_key)

    def received(event_id: str, received_at: datetime, trace: TraceContext) -> DocumentReceived:
        return DocumentReceived(
            event_id=event_id,
            tenant_id=tenant_id,
            declared_type=upload.declared_type,
            document=reference,
            attributes=upload.attributes,
            occurred_at=received_at,
            received_at=received_at,
            source=source,
            source_ref=upload.source_ref,
            idempotency_key=idempotency_key,
            trace=trace,
        )

    return await acceptor.deliver(submission, settings.documents_topic, f"document.{upload.declared_type}", received)
