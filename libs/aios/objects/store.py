"""A tenant's documents in an S3 bucket: content-addressed keys under the tenant's prefix, retention per tenant.

Every read derives the object key from the caller's tenant and the document's SHA-256, so no API
that goes through this store can reach another tenant's object, whatever reference it is given.
Encryption at rest is the `Sealer`'s (`aios.keys.documents`): the bytes are sealed before they leave
for the store and opened after they come back, and the object's `encryption` metadata names the
sealing. An object stored before encryption has none and is read as it is: the SHA-256 it is named
by still holds it to its content, and storing the same document again seals it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from aios.objects.errors import DocumentCorrupted, DocumentNotFound, ObjectStoreError
from aios.objects.settings import ObjectStoreSettings

log = logging.getLogger(__name__)

TENANTS_PREFIX = "tenants/"
_TENANT_ID = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}"
_HEX_SHA256 = r"[0-9a-f]{64}"
_TENANT = re.compile(f"^{_TENANT_ID}$")
_SHA256 = re.compile(f"^{_HEX_SHA256}$")
_OBJECT_KEY = re.compile(f"^{TENANTS_PREFIX}({_TENANT_ID})/documents/({_HEX_SHA256})$")


ENCRYPTION_METADATA = "encryption"
"""The object metadata that names how its bytes are sealed (absent: stored in clear, before encryption)."""


class Sealer(Protocol):
    """Encryption at rest, per tenant: what goes to the store is `seal`ed, what comes back is `open`ed."""

    name: str
    """Kept in the object's metadata, so a reader knows the bytes are sealed and by what."""

    async def seal(self, tenant_id: str, object_key: str, data: bytes) -> bytes: ...

    async def open(self, tenant_id: str, object_key: str, sealed: bytes) -> bytes:
        """Raises `DocumentCorrupted` when the bytes do not authenticate (altered, or not this tenant's object)."""
        ...


@dataclass(frozen=True)
class StoredObject:
    """Where a document's bytes went."""

    bucket: str
    object_key: str
    sha256: str
    size_bytes: int


def object_key(tenant_id: str, sha256: str) -> str:
    """`tenants/<tenant>/documents/<sha256>`: one object per content per tenant, so a retried upload rewrites it."""
    if not _SHA256.match(sha256):
        raise ValueError("sha256 must be 64 lower-case hex digits")
    return f"{tenant_prefix(tenant_id)}{sha256}"


def tenant_prefix(tenant_id: str) -> str:
    """Where a tenant's objects are, and nobody else's."""
    if not _TENANT.match(tenant_id):
        raise ValueError(f"tenant id {tenant_id!r} cannot name an object prefix")
    return f"{TENANTS_PREFIX}{tenant_id}/documents/"


class DocumentStore:
    """`put` and `get` are coroutines (sealing needs the tenant's data key, from PostgreSQL) that run boto3 in a
    thread; the rest are blocking calls."""

    def __init__(self, sealer: Sealer, settings: ObjectStoreSettings | None = None) -> None:
        self.settings = settings or ObjectStoreSettings()
        self.sealer = sealer
        secret = self.settings.secret_access_key
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=self.settings.endpoint_url,
            region_name=self.settings.region,
            aws_access_key_id=self.settings.access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret is not None else None,
            config=Config(
                connect_timeout=self.settings.connect_timeout_s,
                read_timeout=self.settings.read_timeout_s,
                retries={"max_attempts": 3, "mode": "standard"},
                s3={"addressing_style": "path"},
            ),
        )

    @property
    def bucket(self) -> str:
        return self.settings.bucket

    def ensure_bucket(self) -> None:
        """Create the bucket unless it exists (every service that writes calls this at start)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if _status(exc) != 404:
                raise ObjectStoreError(f"bucket {self.bucket}: {exc}") from exc
            try:
                self.client.create_bucket(Bucket=self.bucket)
            except ClientError as create:
                if _code(create) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise ObjectStoreError(f"creating bucket {self.bucket}: {create}") from create
        except BotoCoreError as exc:
            raise ObjectStoreError(f"object store unreachable: {exc}") from exc

    async def put(self, tenant_id: str, data: bytes, media_type: str) -> StoredObject:
        """Store `data` for `tenant_id`, sealed; returns once the store has acknowledged the whole object."""
        sha256 = hashlib.sha256(data).hexdigest()
        key = object_key(tenant_id, sha256)
        sealed = await self.sealer.seal(tenant_id, key, data)
        await asyncio.to_thread(self._put, key, sealed, media_type, tenant_id, sha256)
        return StoredObject(self.bucket, key, sha256, len(data))

    def _put(self, key: str, body: bytes, media_type: str, tenant_id: str, sha256: str) -> None:
        metadata = {"tenant": tenant_id, "sha256": sha256, ENCRYPTION_METADATA: self.sealer.name}

        def send() -> None:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=media_type, Metadata=metadata)

        try:
            try:
                send()
            except ClientError as exc:
                if _code(exc) != "NoSuchBucket":
                    raise
                self.ensure_bucket()  # a fresh store: the first document creates the bucket
                send()
        except (BotoCoreError, ClientError) as exc:
            raise ObjectStoreError(f"storing {key}: {exc}") from exc

    async def get(self, tenant_id: str, sha256: str) -> bytes:
        """The bytes of `tenant_id`'s document `sha256`, opened and checked against the hash."""
        key = object_key(tenant_id, sha256)
        stored, sealed_with = await asyncio.to_thread(self._get, tenant_id, key)
        if sealed_with is None:
            log.info("%s was stored before encryption: read in clear", key)
            data = stored
        elif sealed_with == self.sealer.name:
            data = await self.sealer.open(tenant_id, key, stored)
        else:
            # Refused like altered bytes, not retried: whoever can write the bucket must not stall a reader.
            raise DocumentCorrupted(f"{key} is sealed with {sealed_with!r}; this store opens {self.sealer.name!r}")
        if hashlib.sha256(data).hexdigest() != sha256:
            raise DocumentCorrupted(f"{key} does not hash to its name")
        return data

    def _get(self, tenant_id: str, key: str) -> tuple[bytes, str | None]:
        """The stored bytes and the name of their sealing (None: stored in clear)."""
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
            return answer["Body"].read(), answer.get("Metadata", {}).get(ENCRYPTION_METADATA)
        except ClientError as exc:
            if _status(exc) == 404:
                raise DocumentNotFound(f"no document {key.rsplit('/', 1)[-1]} for tenant {tenant_id}") from exc
            raise ObjectStoreError(f"reading {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise ObjectStoreError(f"reading {key}: {exc}") from exc

    def purge_expired(self, tenant_id: str, now: datetime | None = None) -> int:
        """Delete the tenant's documents older than its retention; returns how many went."""
        cutoff = (now or datetime.now(UTC)) - timedelta(days=self.settings.retention_days(tenant_id))
        try:
            expired = [{"Key": o["Key"]} for o in self._listed(tenant_prefix(tenant_id)) if o["LastModified"] < cutoff]
            for start in range(0, len(expired), 1000):
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": expired[start : start + 1000]})
        except (BotoCoreError, ClientError) as exc:
            raise ObjectStoreError(f"purging {tenant_id}'s documents: {exc}") from exc
        return len(expired)

    def _listed(self, prefix: str) -> list[dict[str, Any]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [found for page in pages for found in page.get("Contents", [])]

    async def seal_plaintext(self, tenant_id: str | None = None) -> tuple[int, list[str]]:
        """Seal in place the documents stored in clear before encryption, of one tenant or all (idempotent, while
        services run): how many, and the keys left as they are because their bytes no longer match their name."""
        sealed, corrupted = 0, []
        prefix = TENANTS_PREFIX if tenant_id is None else tenant_prefix(tenant_id)
        try:
            listed = await asyncio.to_thread(self._listed, prefix)
        except (BotoCoreError, ClientError) as exc:
            raise ObjectStoreError(f"listing {self.bucket}: {exc}") from exc
        for found in listed:
            named = _OBJECT_KEY.match(found["Key"])
            if named is None:
                continue
            tenant_id, sha256 = named.groups()
            head = await asyncio.to_thread(self._head, found["Key"])
            if ENCRYPTION_METADATA in head.get("Metadata", {}):
                continue
            stored, _ = await asyncio.to_thread(self._get, tenant_id, found["Key"])
            if hashlib.sha256(stored).hexdigest() != sha256:
                corrupted.append(found["Key"])
                continue
            await self.put(tenant_id, stored, head["ContentType"])
            sealed += 1
        return sealed, corrupted

    def _head(self, key: str) -> dict[str, Any]:
        try:
            return dict(self.client.head_object(Bucket=self.bucket, Key=key))
        except (BotoCoreError, ClientError) as exc:
            raise ObjectStoreError(f"reading {key}: {exc}") from exc

    def reachable(self) -> bool:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError):
            return False
        return True


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
