"""Ingest's `GET /v1/events/{event_id}` tells the stages an event reached, from the audit trail."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from aios.audit.records import entry_for
from aios.audit.store import AuditStore
from aios.bench.lineage import event_records
from aios.db.pool import open_pool
from aios.kafka.records import InputRecord
from aios.settings import ConnectionSettings
from aios.tenants.store import AUDITOR, IssuedKey, TenantStore
from tests.integration.ingest.conftest import IngestProcess


@pytest.fixture
def ingest(connection: ConnectionSettings, migrated_database: str, tmp_path: Path) -> Iterator[IngestProcess]:
    service = IngestProcess(connection.model_copy(update={"postgres_dsn": SecretStr(migrated_database)}), tmp_path)
    service.start()
    yield service
    service.stop()


def test_the_status_shows_every_stage_the_trail_recorded(ingest: IngestProcess, migrated_database: str) -> None:
    async def tenant() -> tuple[IssuedKey, IssuedKey]:
        async with open_pool(migrated_database, max_size=1) as pool:
            sender = await TenantStore(pool).create_tenant("stages-tenant")
            return sender, await TenantStore(pool).add_key(sender.tenant_id, AUDITOR)

    sender, auditor = asyncio.run(tenant())
    headers = {"Authorization": f"Bearer {sender.api_key}"}
    accepted = httpx.post(f"{ingest.url}/v1/events", headers=headers, json={"type": "support.ticket", "text": "hi"})
    assert accepted.status_code == 202, accepted.text
    event_id = accepted.json()["event_id"]
    status = httpx.get(f"{ingest.url}/v1/events/{event_id}", headers=headers).json()
    assert (status["stage"], status["stages"]) == ("received", ["received"])

    records = event_records(sender.tenant_id, event_id)

    async def append(names: list[str]) -> None:
        async with open_pool(migrated_database, max_size=1) as pool:
            await AuditStore(pool).append(
                [
                    entry_for(InputRecord(name, 0, n, None, records[name], [], {}), name.split("#")[0])
                    for n, name in enumerate(names)
                ]
            )

    asyncio.run(append(["aios.events.classified", "aios.events.enriched", "aios.decisions"]))
    status = httpx.get(f"{ingest.url}/v1/events/{event_id}", headers=headers).json()
    assert (status["stage"], status["stages"]) == ("decided", ["received", "classified", "enriched", "decided"])
    asyncio.run(append(["aios.actions.executed#0"]))
    assert httpx.get(f"{ingest.url}/v1/events/{event_id}", headers=headers).json()["stage"] == "acted"
    auditor_headers = {"Authorization": f"Bearer {auditor.api_key}"}
    refused = httpx.post(
        f"{ingest.url}/v1/events", headers=auditor_headers, json={"type": "support.ticket", "text": "x"}
    )
    assert refused.status_code == 401, "an auditor key cannot submit events"
