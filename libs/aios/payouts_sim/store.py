"""The simulator's payouts in SQLite, with the idempotency rules of a payment provider.

A create carries an idempotency key and a body: a new key makes a payout; a known key with the
same body (by SHA-256 of its canonical JSON) gives the payout it made before, and with another
body is refused. Every call is one short transaction under a lock, so concurrent requests with
one key make one payout.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS payouts (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    body_sha256 TEXT NOT NULL,
    reference TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    iban TEXT NOT NULL,
    execute_on TEXT,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    cancelled_at TEXT
);
CREATE INDEX IF NOT EXISTS payouts_reference ON payouts (reference);
"""

SCHEDULED, PAID, CANCELLED = "scheduled", "paid", "cancelled"


class IdempotencyConflict(Exception):
    """The idempotency key was used before with another body."""


@dataclass(frozen=True)
class Payout:
    id: str
    idempotency_key: str
    reference: str
    amount: str
    currency: str
    iban: str
    execute_on: str | None
    status: str
    """`scheduled` (to be paid on `execute_on`), `paid`, or `cancelled`."""
    created_at: str
    cancelled_at: str | None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def body_digest(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class PayoutStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def create(self, key: str, body: Mapping[str, Any]) -> tuple[Payout, bool]:
        """The payout for `key` and whether this call made it; IdempotencyConflict for a known key, other body."""
        digest = body_digest(body)
        with self._lock:
            row = self._db.execute("SELECT * FROM payouts WHERE idempotency_key = ?", (key,)).fetchone()
            if row is not None:
                if row["body_sha256"] != digest:
                    raise IdempotencyConflict(
                        f"idempotency key {key} was used for payout {row['id']} with another request body"
                    )
                return _payout(row), False
            execute_on = body.get("execute_on")
            self._db.execute(
                "INSERT INTO payouts (id, idempotency_key, body_sha256, reference, amount, currency, iban, execute_on,"
                " status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    f"po_{secrets.token_hex(12)}",
                    key,
                    digest,
                    body["reference"],
                    body["amount"],
                    body["currency"],
                    body["iban"],
                    execute_on,
                    SCHEDULED if execute_on else PAID,
                    _now(),
                ),
            )
            made = self._db.execute("SELECT * FROM payouts WHERE idempotency_key = ?", (key,)).fetchone()
        return _payout(made), True

    def get(self, payout_id: str) -> Payout | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM payouts WHERE id = ?", (payout_id,)).fetchone()
        return None if row is None else _payout(row)

    def by_reference(self, reference: str) -> list[Payout]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM payouts WHERE reference = ? ORDER BY created_at, id", (reference,)
            ).fetchall()
        return [_payout(row) for row in rows]

    def cancel(self, payout_id: str) -> Payout | None:
        """The payout, cancelled (again: cancelling twice changes nothing); None when there is none."""
        with self._lock:
            self._db.execute(
                "UPDATE payouts SET status = ?, cancelled_at = ? WHERE id = ? AND status <> ?",
                (CANCELLED, _now(), payout_id, CANCELLED),
            )
            row = self._db.execute("SELECT * FROM payouts WHERE id = ?", (payout_id,)).fetchone()
        return None if row is None else _payout(row)

    def stats(self) -> dict[str, Any]:
        """Payouts in all, per business reference (made, and not cancelled), and the references paid twice."""
        with self._lock:
            rows = self._db.execute(
                "SELECT reference, count(*) AS made, sum(status <> ?) AS live FROM payouts GROUP BY reference",
                (CANCELLED,),
            ).fetchall()
        by_reference = {row["reference"]: {"made": row["made"], "live": row["live"]} for row in rows}
        return {
            "payouts": sum(entry["made"] for entry in by_reference.values()),
            "references": len(by_reference),
            "by_reference": by_reference,
            "paid_twice": sorted(ref for ref, entry in by_reference.items() if entry["live"] > 1),
        }


def _payout(row: sqlite3.Row) -> Payout:
    return Payout(
        id=row["id"],
        idempotency_key=row["idempotency_key"],
        reference=row["reference"],
        amount=row["amount"],
        currency=row["currency"],
        iban=row["iban"],
        execute_on=row["execute_on"],
        status=row["status"],
        created_at=row["created_at"],
        cancelled_at=row["cancelled_at"],
    )


def _now() -> str:
    return datetime.now(UTC).isoformat()
