"""`aios refdata import|list` as an operator runs them, and lookups by revision, on a private migrated database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import asyncpg

from aios.db.pool import open_pool
from aios.paths import project_root
from aios.policy.reference import ReferenceMatch, Vendor
from aios.refdata.store import RefdataStore
from aios.tenants.store import TenantStore
from tests.support.cli import aios

SAMPLES = project_root() / "policies" / "samples"
T = TypeVar("T")


def on(dsn: str, work: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    async def run() -> T:
        async with open_pool(dsn) as pool:
            return await work(pool)

    return asyncio.run(run())


def test_import_reports_rejections_and_makes_revisions(migrated_database: str, tmp_path: Path) -> None:
    tenant_id = on(migrated_database, lambda pool: TenantStore(pool).create_tenant("payables")).tenant_id
    env = {"AIOS_POSTGRES_DSN": migrated_database}

    def run(*args: str) -> dict[str, object]:
        done = aios("refdata", *args, "--json", env=env)
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    vendors = run("import", "--tenant", "payables", "vendors", str(SAMPLES / "payables-vendors.csv"))
    assert (vendors["revision"], vendors["accepted"], vendors["closed"]) == (1, 3, 0)
    assert vendors["rejected"] == [
        {"line": 5, "reason": "ibans: IBAN NL91ABNA0417164301: checksum (mod 97) fails"},
        {"line": 6, "reason": "name: missing"},
    ]
    orders = run("import", "--tenant", tenant_id, "purchase-orders", str(SAMPLES / "payables-purchase-orders.csv"))
    assert (orders["revision"], orders["accepted"], len(orders["rejected"])) == (2, 3, 2)  # type: ignore[arg-type]

    # Northwind's IBAN changes: revision 3 closes its old row; the others stay current.
    changed = tmp_path / "vendors.csv"
    changed.write_text("name,ibans\nNorthwind Traders Ltd,DE44500105175407324931\n")
    assert run("import", "--tenant", "payables", "vendors", str(changed))["closed"] == 1
    by_name = {"vendor_name": "NORTHWIND TRADERS LTD."}  # the new row has no aliases: "Northwind" no longer matches
    northwind = on(migrated_database, lambda p: RefdataStore(p).match(tenant_id, by_name))
    assert northwind == ReferenceMatch(3, Vendor("Northwind Traders Ltd", (), None, ("DE44500105175407324931",)))
    at_two = on(migrated_database, lambda p: RefdataStore(p).rows(tenant_id, "vendors", revision=2))
    assert [v.ibans for v in at_two if isinstance(v, Vendor) and v.name.startswith("Northwind")] == [
        ("GB82WEST12345698765432",)
    ]
    # With --replace the file is all there is: the other two vendors are no longer current.
    replaced = run("import", "--tenant", "payables", "vendors", str(changed), "--replace")
    assert (replaced["revision"], replaced["closed"]) == (4, 3)
    listing = run("list", "--tenant", "payables")
    assert (listing["revision"], listing["current"]) == (4, {"vendors": 1, "purchase-orders": 3, "policies": 0})
    revisions = listing["revisions"]
    assert isinstance(revisions, list)
    assert [(r["revision"], r["kind"], r["accepted"], r["rejected"], r["replaced"]) for r in revisions] == [
        (4, "vendors", 1, 0, True),
        (3, "vendors", 1, 0, False),
        (2, "purchase-orders", 3, 2, False),
        (1, "vendors", 3, 2, False),
    ]
    assert revisions[0]["imported_by"] == "integration-tests"
    everyone = json.loads(aios("refdata", "list", "--json", env=env).stdout)
    assert everyone == [{"tenant_id": tenant_id, "revision": 4}]

    fields = {"vendor_name": "Nobody", "po_number": "po-1001", "policy_number": "X"}
    match = on(migrated_database, lambda p: RefdataStore(p).match(tenant_id, fields))
    assert match.revision == 4 and match.vendor is None and match.insurance_policy is None
    assert match.purchase_order is not None and match.purchase_order.remaining == Decimal("5000.00")


def test_a_file_that_does_not_fit_is_refused_whole(migrated_database: str, tmp_path: Path) -> None:
    on(migrated_database, lambda pool: TenantStore(pool).create_tenant("claims"))
    env = {"AIOS_POSTGRES_DSN": migrated_database}
    bad = tmp_path / "policies.csv"
    bad.write_text("number,holder,active_from\nHP-1,Jane,2025-01-01\n")
    done = aios("refdata", "import", "--tenant", "claims", "policies", str(bad), env=env)
    assert done.returncode != 0
    assert "missing column(s) active_to, loss_types, limit" in done.stderr
    assert json.loads(aios("refdata", "list", "--tenant", "claims", "--json", env=env).stdout)["revision"] == 0
    unknown_kind = aios("refdata", "import", "--tenant", "claims", "claims", str(bad), env=env)
    assert unknown_kind.returncode != 0 and "one of vendors, purchase-orders, policies" in unknown_kind.stderr


def test_importing_needs_an_admin_credential(migrated_database: str) -> None:
    on(migrated_database, lambda pool: TenantStore(pool).create_tenant("payables"))
    env = {"AIOS_POSTGRES_DSN": migrated_database, "AIOS_CREDENTIAL": ""}
    done = aios("refdata", "import", "--tenant", "payables", "vendors", str(SAMPLES / "payables-vendors.csv"), env=env)
    assert done.returncode != 0
    assert json.loads(aios("refdata", "list", "--tenant", "payables", "--json", env=env).stdout)["revision"] == 0
