"""Appends from several instances at once: one chain per tenant, no gaps, no record twice."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

from aios.audit.chain import AuditEntry, canonical_json
from aios.audit.store import AuditStore
from aios.db.pool import open_pool


def entries(count: int) -> list[AuditEntry]:
    return [
        AuditEntry(
            tenant_id=f"tenant-{n % 3}",
            event_id=f"event-{n}",
            record_type="aios.decisions",
            topic="aios.decisions",
            partition=n % 4,
            offset=n,
            record_time=datetime(2026, 1, 1, tzinfo=UTC),
            schema_id=4,
            trace_id=None,
            record=canonical_json({"n": n}),
        )
        for n in range(count)
    ]


def test_concurrent_appenders_with_overlapping_batches_keep_every_chain_whole(migrated_database: str) -> None:
    """Four appenders, each with its own connections, append overlapping slices of the same records in
    random batches (as instances do after a rebalance): every record is in the trail once, every chain verifies."""
    records = entries(600)

    async def appender(seed: int) -> tuple[int, int]:
        rng = random.Random(seed)
        mine = records[seed * 100 : seed * 100 + 300]
        appended = duplicates = 0
        async with open_pool(migrated_database, max_size=1) as pool:
            store = AuditStore(pool)
            position = 0
            while position < len(mine):
                size = rng.randint(1, 40)
                result = await store.append(mine[position : position + size])
                appended, duplicates = appended + result.appended, duplicates + result.duplicates
                position += size
        return appended, duplicates

    async def main() -> tuple[list[tuple[int, int]], list, list]:
        results = await asyncio.gather(*(appender(seed) for seed in range(4)))
        async with open_pool(migrated_database, max_size=1) as pool:
            store = AuditStore(pool)
            reports = await store.verify()
            counts = await pool.fetch(
                "SELECT tenant_id, count(*) AS n, max(chain_seq) AS top FROM audit_log GROUP BY 1"
            )
        return results, reports, counts

    results, reports, counts = asyncio.run(main())
    assert sum(appended for appended, _ in results) == 600
    assert sum(duplicates for _, duplicates in results) == 4 * 300 - 600
    assert [(r.tenant_id, r.rows, r.broken) for r in reports] == [(f"tenant-{t}", 200, None) for t in range(3)]
    assert sorted((c["tenant_id"], c["n"], c["top"]) for c in counts) == [(f"tenant-{t}", 200, 200) for t in range(3)]
