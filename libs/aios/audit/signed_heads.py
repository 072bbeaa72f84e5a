"""Signed chain heads kept outside PostgreSQL: evidence that survives someone rewriting the tables.

Every `interval` the audit service writes the heads (position, hash) of the chains that moved, with
an HMAC under a key derived from the chain key, to a `HeadLog`: a JSON Lines file locally, the object
store in production (any class with `append` and `read`). `aios audit verify` then compares each
signed head with the row now at that position: a stretch re-chained by SQL, which hides from the
chain check when re-hashed consistently, differs from what was signed, and the stretch between the
last head that still matches and the first that does not is named.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from aios.audit.store import AuditStore
from aios.canonical import canonical_json

log = logging.getLogger(__name__)


def _signing_key(chain_key: bytes) -> bytes:
    return hmac.new(chain_key, b"aios audit signed heads", hashlib.sha256).digest()


@dataclass(frozen=True)
class SignedHeads:
    database: str
    """The database whose chains these are (one file may serve several, e.g. test databases)."""
    at: str
    """When the heads were read (ISO 8601, UTC)."""
    heads: dict[str, tuple[int, str]]
    """Tenant id → (chain position, hash) of its last row."""
    mac: str

    def _unsigned(self) -> dict[str, Any]:
        return {"database": self.database, "at": self.at, "heads": {t: list(h) for t, h in self.heads.items()}}

    def _mac(self, chain_key: bytes) -> str:
        return hmac.new(_signing_key(chain_key), canonical_json(self._unsigned()).encode(), hashlib.sha256).hexdigest()

    @classmethod
    def sign(
        cls, chain_key: bytes, database: str, heads: dict[str, tuple[int, str]], at: datetime | None = None
    ) -> SignedHeads:
        unsigned = cls(database, (at or datetime.now(UTC)).isoformat(), heads, "")
        return dataclasses.replace(unsigned, mac=unsigned._mac(chain_key))

    def valid(self, chain_key: bytes) -> bool:
        return hmac.compare_digest(self._mac(chain_key), self.mac)

    def to_json(self) -> str:
        return json.dumps({**self._unsigned(), "mac": self.mac})

    @classmethod
    def from_json(cls, line: str) -> SignedHeads:
        raw = json.loads(line)
        heads = {t: (int(h[0]), str(h[1])) for t, h in raw["heads"].items()}
        return cls(raw["database"], raw["at"], heads, raw["mac"])


class HeadLog(Protocol):
    """Where signed heads are kept, outside the database they vouch for."""

    def append(self, signed: SignedHeads) -> None: ...

    def read(self) -> list[SignedHeads]:
        """Every entry, oldest first; a line that is no entry is skipped with a warning."""
        ...


class FileHeadLog:
    """A JSON Lines file, appended with O_APPEND (one write per line), so instances may share it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, signed: SignedHeads) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, (signed.to_json() + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> list[SignedHeads]:
        if not self.path.exists():
            return []
        entries = []
        for number, line in enumerate(self.path.read_text().splitlines(), 1):
            try:
                entries.append(SignedHeads.from_json(line))
            except (ValueError, KeyError, TypeError, IndexError):
                log.warning("%s line %d is not a signed head entry", self.path, number)
        return entries


@dataclass(frozen=True)
class Rewritten:
    """A stretch of a chain whose rows differ from what was signed: rewritten (or removed) after signing."""

    tenant_id: str
    first_seq: int
    last_seq: int
    signed_at: str
    signed_hash: str
    stored_hash: str | None

    def __str__(self) -> str:
        now = f"now {self.stored_hash[:16]}" if self.stored_hash else "now missing"
        return (
            f"tenant {self.tenant_id}, chain positions {self.first_seq}..{self.last_seq} were rewritten after"
            f" {self.signed_at}: position {self.last_seq} was signed as {self.signed_hash[:16]}, {now}"
        )


def signed_points(
    entries: list[SignedHeads], chain_key: bytes, database: str
) -> tuple[dict[str, dict[int, tuple[str, str]]], int]:
    """Per tenant of `database`, position → (hash, when signed) of every validly signed head; and how many
    entries (of any database) were forged."""
    points: dict[str, dict[int, tuple[str, str]]] = {}
    forged = 0
    for entry in entries:
        if not entry.valid(chain_key):
            forged += 1
            continue
        if entry.database != database:
            continue
        for tenant, (seq, digest) in entry.heads.items():
            points.setdefault(tenant, {}).setdefault(seq, (digest, entry.at))
    return points, forged


def first_rewritten(
    tenant_id: str, points: dict[int, tuple[str, str]], stored: dict[int, str], anchor_seq: int
) -> Rewritten | None:
    """The stretch from the last signed head that still matches to the first that does not, if any."""
    last_good = anchor_seq
    for seq in sorted(s for s in points if s > anchor_seq):
        digest, at = points[seq]
        if stored.get(seq) != digest:
            return Rewritten(tenant_id, last_good + 1, seq, at, digest, stored.get(seq))
        last_good = seq
    return None


async def sign_heads(store: AuditStore, head_log: HeadLog, written: dict[str, tuple[int, str]]) -> int:
    """Append the heads that moved since `written` (updated in place) to the log; how many tenants."""
    heads = {tenant: head for tenant, head in (await store.heads()).items() if written.get(tenant) != head}
    if heads:
        head_log.append(SignedHeads.sign(store.chain_key, await store.database(), heads))
        written.update(heads)
    return len(heads)


async def find_rewritten(
    store: AuditStore, head_log: HeadLog, tenant_id: str | None = None
) -> tuple[list[Rewritten], int]:
    """The first rewritten stretch of each chain (or one tenant's) against the signed heads; and the forged entries."""
    points, forged = signed_points(head_log.read(), store.chain_key, await store.database())
    found = []
    for tenant, signed in sorted(points.items()):
        if tenant_id is not None and tenant != tenant_id:
            continue
        stored = await store.hashes_at(tenant, list(signed))
        rewritten = first_rewritten(tenant, signed, stored, await store.anchor_seq(tenant))
        if rewritten is not None:
            found.append(rewritten)
    return found, forged
