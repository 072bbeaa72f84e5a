"""Reference data in PostgreSQL (migration 0031): imports as revisions, listing, and lookups.

An import is one transaction under the tenant's advisory lock: it takes the next revision number,
closes the rows it replaces (all current rows of its kind with `replace`, else those with the same
key) and inserts its own. A lookup reads the revision and the rows in one snapshot, so the
revision a decision records is the one its rows came from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from aios.policy.reference import InsurancePolicy, Kind, PurchaseOrder, ReferenceMatch, Row, Vendor
from aios.refdata.book import DocumentKeys, best_vendor
from aios.refdata.parsing import ParsedFile

BATCH = 500
"""Rows per INSERT: progress is reported after each batch."""


@dataclass(frozen=True)
class Imported:
    tenant_id: str
    revision: int
    kind: Kind
    accepted: int
    rejected: int
    replaced: bool
    closed: int
    """Rows of earlier revisions this import replaced."""


@dataclass(frozen=True)
class RevisionInfo:
    revision: int
    kind: Kind
    source: str
    replaced: bool
    accepted: int
    rejected: int
    imported_by: str
    created_at: datetime


_TABLES: dict[Kind, str] = {
    "vendors": "refdata_vendors",
    "purchase-orders": "refdata_purchase_orders",
    "policies": "refdata_policies",
}
_KEYS: dict[Kind, str] = {"vendors": "name_key", "purchase-orders": "upper(number)", "policies": "upper(number)"}

_INSERT: dict[Kind, str] = {
    "vendors": "INSERT INTO refdata_vendors (tenant_id, revision_from, name, name_key, aliases, tax_id, ibans,"
    " match_keys) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    "purchase-orders": "INSERT INTO refdata_purchase_orders (tenant_id, revision_from, number, vendor, amount,"
    " currency, remaining) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    "policies": "INSERT INTO refdata_policies (tenant_id, revision_from, number, holder, active_from, active_to,"
    " loss_types, coverage_limit, deductible) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
}


class RefdataStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def import_file(
        self,
        tenant_id: str,
        parsed: ParsedFile,
        *,
        replace: bool,
        source: str,
        imported_by: str,
        on_progress: Callable[[int], None] | None = None,
    ) -> Imported:
        """A parsed file's rows as a new revision, its rejected rows counted in it."""
        return await self.import_rows(
            tenant_id,
            parsed.kind,
            parsed.rows,
            rejected=len(parsed.rejected),
            replace=replace,
            source=source,
            imported_by=imported_by,
            on_progress=on_progress,
        )

    async def import_rows(
        self,
        tenant_id: str,
        kind: Kind,
        rows: Sequence[Row],
        *,
        rejected: int,
        replace: bool,
        source: str,
        imported_by: str,
        on_progress: Callable[[int], None] | None = None,
    ) -> Imported:
        """Make a new revision holding `rows`; `on_progress` gets the number of rows written so far."""
        table = _TABLES[kind]
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('refdata:' || $1))", tenant_id)
            revision = int(
                await conn.fetchval(
                    "SELECT coalesce(max(revision), 0) + 1 FROM refdata_revisions WHERE tenant_id = $1", tenant_id
                )
            )
            if replace:
                closed = await conn.execute(
                    f"UPDATE {table} SET revision_to = $2 WHERE tenant_id = $1 AND revision_to IS NULL",  # noqa: S608
                    tenant_id,
                    revision,
                )
            else:
                closed = await conn.execute(
                    f"UPDATE {table} SET revision_to = $2 WHERE tenant_id = $1 AND revision_to IS NULL"  # noqa: S608
                    f" AND {_KEYS[kind]} = ANY($3::text[])",
                    tenant_id,
                    revision,
                    [row.key for row in rows],
                )
            written = 0
            for start in range(0, len(rows), BATCH):
                batch = rows[start : start + BATCH]
                await conn.executemany(_INSERT[kind], [(tenant_id, revision, *_values(row)) for row in batch])
                written += len(batch)
                if on_progress is not None:
                    on_progress(written)
            await conn.execute(
                "INSERT INTO refdata_revisions (tenant_id, revision, kind, source, replaced, accepted, rejected,"
                " imported_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                tenant_id,
                revision,
                kind,
                source,
                replace,
                len(rows),
                rejected,
                imported_by,
            )
        return Imported(tenant_id, revision, kind, len(rows), rejected, replace, int(closed.split()[-1]))

    async def revisions(self, tenant_id: str) -> list[RevisionInfo]:
        """Every import of the tenant, newest first."""
        rows = await self._pool.fetch(
            "SELECT revision, kind, source, replaced, accepted, rejected, imported_by, created_at"
            " FROM refdata_revisions WHERE tenant_id = $1 ORDER BY revision DESC",
            tenant_id,
        )
        return [RevisionInfo(**dict(row)) for row in rows]

    async def tenants(self) -> list[tuple[str, int]]:
        """(tenant id, latest revision) of every tenant with reference data."""
        rows = await self._pool.fetch(
            "SELECT tenant_id, max(revision) AS revision FROM refdata_revisions GROUP BY tenant_id ORDER BY tenant_id"
        )
        return [(row["tenant_id"], int(row["revision"])) for row in rows]

    async def current_counts(self, tenant_id: str) -> dict[Kind, int]:
        """How many rows of each kind the tenant's latest revision holds."""
        counts: dict[Kind, int] = {}
        for kind, table in _TABLES.items():
            counts[kind] = int(
                await self._pool.fetchval(
                    f"SELECT count(*) FROM {table} WHERE tenant_id = $1 AND revision_to IS NULL",  # noqa: S608
                    tenant_id,
                )
            )
        return counts

    async def rows(self, tenant_id: str, kind: Kind, revision: int | None = None) -> list[Row]:
        """The rows of `kind` at `revision` (default: the latest)."""
        at = "revision_to IS NULL"
        if revision is not None:
            at = "revision_from <= $2 AND (revision_to IS NULL OR revision_to > $2)"
        args: list[object] = [tenant_id] if revision is None else [tenant_id, revision]
        records = await self._pool.fetch(
            f"SELECT * FROM {_TABLES[kind]} WHERE tenant_id = $1 AND {at} ORDER BY 2",  # noqa: S608
            *args,
        )
        return [_ROW_OF[kind](record) for record in records]

    async def match(self, tenant_id: str, fields: dict[str, str]) -> ReferenceMatch:
        """The tenant's latest revision and the document's vendor, PO and policy in it, from one snapshot."""
        keys = DocumentKeys.of(fields)
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            revision = await conn.fetchval(
                "SELECT coalesce(max(revision), 0) FROM refdata_revisions WHERE tenant_id = $1", tenant_id
            )
            vendors = []
            if keys.vendor:
                vendors = await conn.fetch(
                    "SELECT * FROM refdata_vendors WHERE tenant_id = $1 AND revision_to IS NULL"
                    " AND match_keys && $2::text[]",
                    tenant_id,
                    list(keys.vendor),
                )
            order = policy = None
            if keys.purchase_order:
                order = await conn.fetchrow(
                    "SELECT * FROM refdata_purchase_orders WHERE tenant_id = $1 AND revision_to IS NULL"
                    " AND upper(number) = $2",
                    tenant_id,
                    keys.purchase_order,
                )
            if keys.insurance_policy:
                policy = await conn.fetchrow(
                    "SELECT * FROM refdata_policies WHERE tenant_id = $1 AND revision_to IS NULL"
                    " AND upper(number) = $2",
                    tenant_id,
                    keys.insurance_policy,
                )
        return ReferenceMatch(
            revision=int(revision),
            vendor=best_vendor(keys.vendor, [_vendor(row) for row in vendors]),
            purchase_order=None if order is None else _purchase_order(order),
            insurance_policy=None if policy is None else _insurance_policy(policy),
        )


def _values(row: Row) -> tuple[object, ...]:
    """A row's columns in `_INSERT`'s order (after tenant and revision)."""
    if isinstance(row, Vendor):
        return (row.name, row.key, list(row.aliases), row.tax_id, list(row.ibans), list(row.match_keys))
    if isinstance(row, PurchaseOrder):
        return (row.number, row.vendor, row.amount, row.currency, row.remaining)
    return (
        row.number,
        row.holder,
        row.active_from,
        row.active_to,
        list(row.loss_types),
        row.limit,
        row.deductible,
    )


def _vendor(record: asyncpg.Record) -> Vendor:
    return Vendor(record["name"], tuple(record["aliases"]), record["tax_id"], tuple(record["ibans"]))


def _purchase_order(record: asyncpg.Record) -> PurchaseOrder:
    return PurchaseOrder(record["number"], record["vendor"], record["amount"], record["currency"], record["remaining"])


def _insurance_policy(record: asyncpg.Record) -> InsurancePolicy:
    return InsurancePolicy(
        record["number"],
        record["holder"],
        record["active_from"],
        record["active_to"],
        tuple(record["loss_types"]),
        record["coverage_limit"],
        record["deductible"],
    )


_ROW_OF: dict[Kind, Callable[[asyncpg.Record], Row]] = {
    "vendors": _vendor,
    "purchase-orders": _purchase_order,
    "policies": _insurance_policy,
}
