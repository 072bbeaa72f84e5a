"""The audit trail in PostgreSQL (tables of migration 0006): append, read, verify, export, retention.

Appends take the chain heads of the batch's tenants `FOR UPDATE` (in tenant order, so two
instances never deadlock): appends of one tenant are serialised across instances while other
tenants' go on. Records already in the trail, recognised by (topic, partition, offset), are
skipped. A batch is one transaction and one COPY.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from aios.audit.chain import GENESIS, AuditEntry, Break, ChainCheck, ChainRow, check_chain, row_hash
from aios.audit.errors import ChainBrokenError
from aios.audit.lineage import RECEIVED, stages_reached
from aios.kafka.topics import DEADLETTER
from aios.keys.material import audit_chain_key

COLUMNS = (
    "tenant_id", "chain_seq", "event_id", "record_type", "topic", "kafka_partition", "kafka_offset",
    "record_time", "schema_id", "trace_id", "record", "prev_hash", "hash",
)  # fmt: skip
_SELECT = (
    "SELECT id, tenant_id, chain_seq, event_id, record_type, topic, kafka_partition AS partition,"
    " kafka_offset AS offset, record_time, schema_id, trace_id, record, prev_hash, hash FROM audit_log"
)


@dataclass(frozen=True)
class AppendResult:
    appended: int
    duplicates: int


@dataclass(frozen=True)
class TenantReport:
    tenant_id: str
    rows: int
    head_seq: int
    head_hash: str
    anchor_seq: int
    broken: Break | None


@dataclass(frozen=True)
class PruneResult:
    tenant_id: str
    removed: int
    checkpoint_seq: int
    cutoff: datetime


def _chain_row(row: asyncpg.Record) -> ChainRow:
    return ChainRow(**dict(row))


class AuditStore:
    def __init__(self, pool: asyncpg.Pool, chain_key: bytes | None = None) -> None:
        """`chain_key` keys the links; by default the one `aios.keys` holds, read when first needed."""
        self._pool = pool
        self._chain_key = chain_key

    @property
    def chain_key(self) -> bytes:
        if self._chain_key is None:
            self._chain_key = audit_chain_key()
        return self._chain_key

    async def append(self, entries: Sequence[AuditEntry]) -> AppendResult:
        if not entries:
            return AppendResult(0, 0)
        tenants = sorted({e.tenant_id for e in entries})
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO audit_chain_heads (tenant_id, chain_seq, hash)"
                " SELECT t, 0, $2 FROM unnest($1::text[]) AS t ORDER BY t ON CONFLICT (tenant_id) DO NOTHING",
                tenants,
                GENESIS,
            )
            heads = {
                row["tenant_id"]: (row["chain_seq"], row["hash"])
                for row in await conn.fetch(
                    "SELECT tenant_id, chain_seq, hash FROM audit_chain_heads WHERE tenant_id = ANY($1::text[])"
                    " ORDER BY tenant_id FOR UPDATE",
                    tenants,
                )
            }
            stored = await conn.fetch(
                "SELECT a.topic, a.kafka_partition, a.kafka_offset FROM audit_log AS a"
                " JOIN unnest($1::text[], $2::int[], $3::bigint[]) AS u (topic, p, o)"
                " ON a.topic = u.topic AND a.kafka_partition = u.p AND a.kafka_offset = u.o",
                [e.topic for e in entries],
                [e.partition for e in entries],
                [e.offset for e in entries],
            )
            seen = {(r["topic"], r["kafka_partition"], r["kafka_offset"]) for r in stored}
            rows = []
            for e in entries:
                if (e.topic, e.partition, e.offset) in seen:
                    continue
                seen.add((e.topic, e.partition, e.offset))
                seq, prev = heads[e.tenant_id]
                digest = row_hash(self.chain_key, prev, seq + 1, e)
                rows.append(
                    (
                        e.tenant_id,
                        seq + 1,
                        e.event_id,
                        e.record_type,
                        e.topic,
                        e.partition,
                        e.offset,
                        e.record_time,
                        e.schema_id,
                        e.trace_id,
                        e.record,
                        prev,
                        digest,
                    )
                )
                heads[e.tenant_id] = (seq + 1, digest)
            if rows:
                await conn.copy_records_to_table("audit_log", records=rows, columns=COLUMNS)
                await conn.execute(
                    "UPDATE audit_chain_heads AS h SET chain_seq = u.seq, hash = u.hash, updated_at = now()"
                    " FROM unnest($1::text[], $2::bigint[], $3::text[]) AS u (tenant_id, seq, hash)"
                    " WHERE h.tenant_id = u.tenant_id",
                    list(heads),
                    [seq for seq, _ in heads.values()],
                    [digest for _, digest in heads.values()],
                )
        return AppendResult(len(rows), len(entries) - len(rows))

    async def event_rows(self, event_id: str, tenant_id: str | None = None) -> list[dict[str, Any]]:
        """Every row of an event (of one tenant when given), in chain order."""
        rows = await self._pool.fetch(
            f"{_SELECT} WHERE event_id = $1 AND ($2::text IS NULL OR tenant_id = $2) ORDER BY tenant_id, chain_seq",
            event_id,
            tenant_id,
        )
        return [dict(row) for row in rows]

    async def record_types(self, tenant_id: str, event_id: str) -> list[str]:
        """The catalogue topics an event of a tenant has records in (the stages it reached)."""
        rows = await self._pool.fetch(
            "SELECT DISTINCT record_type FROM audit_log WHERE event_id = $1 AND tenant_id = $2", event_id, tenant_id
        )
        return [row["record_type"] for row in rows]

    async def dead_letter_reason(self, tenant_id: str, event_id: str) -> str | None:
        """Why the event was last dead-lettered, or None when it never was."""
        reason: str | None = await self._pool.fetchval(
            "SELECT record::jsonb ->> 'reason' FROM audit_log WHERE event_id = $1 AND tenant_id = $2"
            " AND record_type = $3 ORDER BY chain_seq DESC LIMIT 1",
            event_id,
            tenant_id,
            DEADLETTER.name,
        )
        return reason

    async def stages(self, tenant_id: str, event_id: str) -> list[str]:
        """The stages an event reached, in pipeline order; `received` always (ingest accepted it)."""
        return stages_reached([RECEIVED, *await self.record_types(tenant_id, event_id)])

    async def database(self) -> str:
        """The name of the database the trail is in (signed heads say whose chains they are)."""
        name: str = await self._pool.fetchval("SELECT current_database()")
        return name

    async def heads(self) -> dict[str, tuple[int, str]]:
        """Every chain's last position and hash."""
        rows = await self._pool.fetch("SELECT tenant_id, chain_seq, hash FROM audit_chain_heads")
        return {row["tenant_id"]: (row["chain_seq"], row["hash"]) for row in rows}

    async def hashes_at(self, tenant_id: str, positions: Sequence[int]) -> dict[int, str]:
        """The stored hash at each of a chain's positions that still has a row."""
        rows = await self._pool.fetch(
            "SELECT chain_seq, hash FROM audit_log WHERE tenant_id = $1 AND chain_seq = ANY($2::bigint[])",
            tenant_id,
            list(positions),
        )
        return {row["chain_seq"]: row["hash"] for row in rows}

    async def anchor_seq(self, tenant_id: str) -> int:
        """The last position retention removed (0: none)."""
        async with self._pool.acquire() as conn:
            return (await self._anchor(conn, tenant_id))[0]

    async def tenants(self) -> list[str]:
        return [r["tenant_id"] for r in await self._pool.fetch("SELECT tenant_id FROM audit_chain_heads ORDER BY 1")]

    async def verify(
        self, tenant_id: str | None = None, progress: Callable[[int], None] = lambda _: None
    ) -> list[TenantReport]:
        """Recompute every chain (or one tenant's) from its anchor; one consistent snapshot per tenant."""
        tenants = [tenant_id] if tenant_id is not None else await self.tenants()
        return [await self._verify_tenant(tenant, progress) for tenant in tenants]

    async def _verify_tenant(self, tenant_id: str, progress: Callable[[int], None]) -> TenantReport:
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            head = await conn.fetchrow("SELECT chain_seq, hash FROM audit_chain_heads WHERE tenant_id = $1", tenant_id)
            anchor = await self._anchor(conn, tenant_id)
            counted = 0

            async def rows() -> AsyncIterator[ChainRow]:
                nonlocal counted
                cursor = conn.cursor(f"{_SELECT} WHERE tenant_id = $1 ORDER BY chain_seq", tenant_id, prefetch=2000)
                async for row in cursor:
                    counted += 1
                    if counted % 2000 == 0:
                        progress(2000)
                    yield _chain_row(row)

            broken = await _check_async(
                ChainCheck(self.chain_key),
                tenant_id,
                rows(),
                anchor,
                (head["chain_seq"], head["hash"]) if head else None,
            )
            progress(counted % 2000)
        head_seq, head_hash = (head["chain_seq"], head["hash"]) if head else (0, GENESIS)
        return TenantReport(tenant_id, counted, head_seq, head_hash, anchor[0], broken)

    @staticmethod
    async def _anchor(conn: asyncpg.Connection, tenant_id: str) -> tuple[int, str]:
        row = await conn.fetchrow(
            "SELECT chain_seq, hash FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY chain_seq DESC LIMIT 1",
            tenant_id,
        )
        return (row["chain_seq"], row["hash"]) if row else (0, GENESIS)

    async def export(
        self, tenant_id: str, since: datetime, until: datetime | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """A tenant's rows recorded in [since, until), in chain order, as stored (hashes included)."""
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            cursor = conn.cursor(
                f"{_SELECT} WHERE tenant_id = $1 AND record_time >= $2"
                " AND ($3::timestamptz IS NULL OR record_time < $3) ORDER BY chain_seq",
                tenant_id,
                since,
                until,
                prefetch=2000,
            )
            async for row in cursor:
                yield dict(row)

    async def set_retention(self, tenant_id: str, days: int | None) -> None:
        """Keep a tenant's rows `days` days (None: back to the service's default)."""
        if days is None:
            await self._pool.execute("DELETE FROM audit_retention WHERE tenant_id = $1", tenant_id)
            return
        await self._pool.execute(
            "INSERT INTO audit_retention (tenant_id, days) VALUES ($1, $2)"
            " ON CONFLICT (tenant_id) DO UPDATE SET days = excluded.days, updated_at = now()",
            tenant_id,
            days,
        )

    async def retention(self) -> dict[str, int]:
        rows = await self._pool.fetch("SELECT tenant_id, days FROM audit_retention")
        return {row["tenant_id"]: row["days"] for row in rows}

    async def prune(
        self, default_days: int | None = None, tenant_id: str | None = None, now: datetime | None = None
    ) -> list[PruneResult]:
        """Remove rows older than each tenant's retention: a prefix of its chain, after checking it.

        The hash of the last removed row becomes the chain's checkpoint, so what remains verifies.
        A prefix that does not verify is kept (it is evidence) and ChainBrokenError names its break.
        """
        now = now or datetime.now(UTC)
        days = await self.retention()
        if default_days:
            days = {tenant: days.get(tenant, default_days) for tenant in await self.tenants()}
        if tenant_id is not None:
            days = {tenant_id: days[tenant_id]} if tenant_id in days else {}
        results = []
        for tenant_id, keep_days in sorted(days.items()):
            result = await self._prune_tenant(tenant_id, now - timedelta(days=keep_days))
            if result is not None:
                results.append(result)
        return results

    async def _prune_tenant(self, tenant_id: str, cutoff: datetime) -> PruneResult | None:
        async with self._pool.acquire() as conn, conn.transaction():
            head = await conn.fetchrow(
                "SELECT chain_seq, hash FROM audit_chain_heads WHERE tenant_id = $1 FOR UPDATE", tenant_id
            )
            if head is None:
                return None
            anchor = await self._anchor(conn, tenant_id)
            first_kept = await conn.fetchval(
                "SELECT min(chain_seq) FROM audit_log WHERE tenant_id = $1 AND record_time >= $2", tenant_id, cutoff
            )
            cut = (first_kept if first_kept is not None else head["chain_seq"] + 1) - 1
            if cut <= anchor[0]:
                return None
            prefix = await conn.fetch(
                f"{_SELECT} WHERE tenant_id = $1 AND chain_seq <= $2 ORDER BY chain_seq", tenant_id, cut
            )
            broken = check_chain(self.chain_key, tenant_id, map(_chain_row, prefix), anchor, None)
            if broken is None and prefix[-1]["chain_seq"] != cut:
                broken = Break(tenant_id, cut, None, None, f"rows up to {cut} are missing")
            if broken is not None:
                raise ChainBrokenError(f"not removing expired rows of a broken chain: {broken}")
            removed = await conn.fetchval(
                "WITH gone AS (DELETE FROM audit_log WHERE tenant_id = $1 AND chain_seq <= $2 RETURNING 1)"
                " SELECT count(*) FROM gone",
                tenant_id,
                cut,
            )
            await conn.execute(
                "INSERT INTO audit_checkpoints (tenant_id, chain_seq, hash, removed_rows, cutoff)"
                " VALUES ($1, $2, $3, $4, $5)",
                tenant_id,
                cut,
                prefix[-1]["hash"],
                removed,
                cutoff,
            )
        return PruneResult(tenant_id, removed, cut, cutoff)

    async def checkpoints(self, tenant_id: str) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            "SELECT chain_seq, hash, removed_rows, cutoff, created_at FROM audit_checkpoints"
            " WHERE tenant_id = $1 ORDER BY chain_seq",
            tenant_id,
        )
        return [dict(row) for row in rows]


async def _check_async(
    checker: ChainCheck,
    tenant_id: str,
    rows: AsyncIterator[ChainRow],
    anchor: tuple[int, str],
    head: tuple[int, str] | None,
) -> Break | None:
    """`check_chain` over rows streamed from a cursor, in slices, so memory stays flat."""
    previous = anchor
    batch: list[ChainRow] = []
    async for row in rows:
        batch.append(row)
        if len(batch) == 2000:
            broken = checker.check(tenant_id, batch, previous, None)
            if broken is not None:
                return broken
            previous = (batch[-1].chain_seq, batch[-1].hash)
            batch = []
    return checker.check(tenant_id, batch, previous, head)
