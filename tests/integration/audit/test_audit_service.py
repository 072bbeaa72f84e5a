"""The audit service against the real stack: lineage, tamper evidence, redelivery, auditors, retention, export.

Records for every topic are produced here as each service would write them (the services that
write them are tested on their own).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from confluent_kafka.schema_registry import SchemaRegistryClient

from aios.audit.chain import GENESIS, ChainRow, canonical_json, check_chain
from aios.audit.records import UNKNOWN_TENANT
from aios.audit.signed_heads import FileHeadLog
from aios.bench.lineage import TRACE_ID, event_records
from aios.kafka import topics
from aios.kafka.clients import registry_config
from aios.kafka.subjects import subject_for
from aios.keys.material import audit_chain_key
from aios.tenants.store import AUDITOR, IssuedKey, TenantStore
from tests.integration.audit.conftest import AuditHarness
from tests.support.cli import aios
from tests.support.database import call_database
from tests.support.kafka_io import produce_raw

STEPS = 8


def new_event(audit: AuditHarness, tenant: str | None = None, timestamp_ms: int | None = None) -> tuple[str, str]:
    """A whole event's records on every topic; (tenant, event id) once all are in the trail."""
    tenant = tenant or f"tenant-{uuid.uuid4().hex[:8]}"
    records = event_records(tenant)
    audit.produce(records, timestamp_ms)
    event_id = records["aios.events.received"]["event_id"]
    audit.wait_rows("event_id = $1", STEPS, event_id)
    return tenant, event_id


def cli(audit: AuditHarness, *args: str):  # type: ignore[no-untyped-def]
    return aios(*args, env={"AIOS_POSTGRES_DSN": audit.dsn, "AIOS_AUDIT_SIGNED_HEADS_PATH": str(audit.signed_heads)})


def wait_signed(audit: AuditHarness, tenant: str, seq: int, timeout_s: float = 20) -> None:
    """Until the audit service has signed `tenant`'s head at `seq` outside the database."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(entry.heads.get(tenant, (0, ""))[0] == seq for entry in FileHeadLog(audit.signed_heads).read()):
            return
        time.sleep(0.2)
    raise AssertionError(f"no signed head of {tenant} at {seq}")


def rechain_without_the_key(audit: AuditHarness, tenant: str, altered_seq: int, from_seq: int) -> None:
    """What a database superuser can do: alter a row, then recompute the links from `from_seq` and the head."""
    rows = audit.query(
        "SELECT id, tenant_id, chain_seq, event_id, record_type, topic, kafka_partition AS partition,"
        " kafka_offset AS offset, record_time, schema_id, trace_id, record, prev_hash, hash FROM audit_log"
        " WHERE tenant_id = $1 ORDER BY chain_seq",
        tenant,
    )
    previous = rows[from_seq - 2]["hash"] if from_seq > 1 else GENESIS
    for row in rows[from_seq - 1 :]:
        if row["chain_seq"] == altered_seq:
            row["record"] = row["record"].replace("}", ',"forged":true}', 1)
        linked = ChainRow(**{**row, "prev_hash": previous, "hash": ""})
        previous = linked.legacy_hash()
        audit.query(
            "UPDATE audit_log SET record = $2, prev_hash = $3, hash = $4 WHERE id = $1",
            row["id"],
            row["record"],
            linked.prev_hash,
            previous,
        )
    audit.query("UPDATE audit_chain_heads SET hash = $2 WHERE tenant_id = $1", tenant, previous)


def test_the_lineage_of_a_full_event_shows_every_stage(audit: AuditHarness) -> None:
    _, event_id = new_event(audit)
    shown = cli(audit, "audit", "show", event_id, "--json")
    assert shown.returncode == 0, shown.stderr
    lineage = json.loads(shown.stdout)
    assert lineage["stages"] == [
        "received", "classified", "enriched", "review_requested", "reviewed", "decided", "acted",
    ]  # fmt: skip
    summary = lineage["summary"]
    assert summary["source"] == "webhook:crm"
    assert summary["model"] == {
        "model_name": "intents",
        "model_version": 3,
        "model_alias": "canary",
        "confidence": 0.93,
    }
    assert summary["documents"] == ["refunds", "cards"] and summary["draft_generator"] == "extractive 1.0"
    assert summary["policy"] == {"version": "sha256:policy-v1", "rule": "refund-small"}
    assert summary["review"] == {"reviewer": "rita@acme", "verdict": "EDIT_APPROVE"}
    assert [(a["action_type"], a["status"]) for a in summary["actions"]] == [
        ("webhook.post", "SUCCEEDED"),
        ("email.send", "SUCCEEDED"),
    ]
    assert summary["trace_ids"] == [TRACE_ID]
    registry = SchemaRegistryClient(registry_config(audit.connection.schema_registry_url))
    # A text event passes every stage but the dead letter and the documents' own topics.
    untouched = {topics.DEADLETTER.name, topics.DOCUMENTS_RECEIVED.name, topics.DOCUMENTS_EXTRACTED.name}
    for name, copy in audit.topics.items():
        if name not in untouched:
            assert summary["schema_ids"][name] == registry.get_latest_version(subject_for(copy)).schema_id
    received = lineage["steps"][0]
    assert received["facts"]["text"] == "I was charged twice, write to [EMAIL] or call [PHONE]"
    assert "jane.doe@example.com" not in shown.stdout, "personal data never reaches the trail"
    human = cli(audit, "audit", "show", event_id)
    assert human.returncode == 0 and "review_requested" in human.stdout and "refund-small" in human.stdout
    assert cli(audit, "audit", "show", str(uuid.uuid4())).returncode == 1


def test_redelivered_records_are_recognised_and_instances_share_the_chains(audit: AuditHarness) -> None:
    """A second instance in another group reads every record again (as after lost commits): nothing is
    appended twice. It then keeps running beside the first, so later records reach both."""
    new_event(audit)
    before = audit.query("SELECT count(*) AS n FROM audit_log")[0]["n"]
    url = audit.start(f"audit-replay-{uuid.uuid4().hex[:8]}")
    deadline = time.monotonic() + 60
    duplicates = 0.0
    while time.monotonic() < deadline and duplicates < before:
        metrics = httpx.get(f"{url}/metrics", follow_redirects=True).text
        found = re.search(r'^aios_audit_duplicates_total\{service="audit"\} (\S+)$', metrics, re.M)
        duplicates = float(found[1]) if found else 0.0
        time.sleep(0.3)
    assert duplicates >= before
    assert audit.query("SELECT count(*) AS n FROM audit_log")[0]["n"] == before
    tenant, _ = new_event(audit)
    time.sleep(1)
    assert len(audit.query("SELECT id FROM audit_log WHERE tenant_id = $1", tenant)) == STEPS
    verified = cli(audit, "audit", "verify", "--tenant", tenant)
    assert verified.returncode == 0 and "ok" in verified.stdout, verified.stderr


def test_verify_names_the_row_altered_by_sql(audit: AuditHarness) -> None:
    tenant, event_id = new_event(audit)
    other, _ = new_event(audit)
    assert cli(audit, "audit", "verify", "--tenant", tenant).returncode == 0
    row = audit.query("SELECT id, event_id FROM audit_log WHERE tenant_id = $1 AND chain_seq = 4", tenant)[0]
    audit.query("UPDATE audit_log SET record = record || ' ' WHERE id = $1", row["id"])
    broken = cli(audit, "audit", "verify")
    assert broken.returncode == 1
    assert f"tenant {tenant}, chain position 4, row {row['id']}, event {event_id}" in broken.stderr
    assert "altered" in broken.stderr
    assert cli(audit, "audit", "verify", "--tenant", other).returncode == 0, "other tenants' chains still hold"
    as_json = json.loads(cli(audit, "audit", "verify", "--tenant", tenant, "--json").stdout)
    assert as_json["ok"] is False and str(row["id"]) in as_json["tenants"][0]["broken"]


def test_verify_names_a_row_altered_and_rechained_by_sql(audit: AuditHarness) -> None:
    tenant, event_id = new_event(audit)
    wait_signed(audit, tenant, STEPS)
    row = audit.query("SELECT id FROM audit_log WHERE tenant_id = $1 AND chain_seq = 4", tenant)[0]
    rechain_without_the_key(audit, tenant, altered_seq=4, from_seq=4)
    broken = cli(audit, "audit", "verify", "--tenant", tenant)
    assert broken.returncode == 1
    assert f"tenant {tenant}, chain position 4, row {row['id']}, event {event_id}" in broken.stderr
    assert re.search(rf"rewritten: tenant {tenant}, chain positions \d+\.\.\d+ were rewritten after", broken.stderr)


def test_a_chain_rehashed_whole_is_caught_by_the_signed_heads(audit: AuditHarness) -> None:
    """Re-hashed from its first row without the key, every link holds as an unkeyed link: the signed heads
    outside the database name the stretch."""
    tenant, _ = new_event(audit)
    wait_signed(audit, tenant, STEPS)
    rechain_without_the_key(audit, tenant, altered_seq=4, from_seq=1)
    broken = cli(audit, "audit", "verify", "--tenant", tenant, "--json")
    assert broken.returncode == 1
    report = json.loads(broken.stdout)
    assert report["tenants"][0]["broken"] is None and report["ok"] is False
    assert report["rewritten"] and f"tenant {tenant}, chain positions 1.." in report["rewritten"][0]


def test_verify_names_the_gap_a_deleted_row_leaves(audit: AuditHarness) -> None:
    tenant, _ = new_event(audit)
    gone, after = audit.query(
        "SELECT id, event_id FROM audit_log WHERE tenant_id = $1 AND chain_seq IN (2, 3) ORDER BY chain_seq", tenant
    )
    audit.query("DELETE FROM audit_log WHERE id = $1", gone["id"])
    broken = cli(audit, "audit", "verify", "--tenant", tenant)
    assert broken.returncode == 1 and f"row {after['id']}" in broken.stderr and "rows 2..2 are missing" in broken.stderr


def test_another_tenants_auditor_gets_404(audit: AuditHarness) -> None:
    async def tenants(pool):  # type: ignore[no-untyped-def]
        store = TenantStore(pool)
        first = await store.create_tenant(f"bank-{uuid.uuid4().hex[:6]}")
        second = await store.create_tenant(f"insurer-{uuid.uuid4().hex[:6]}")
        auditor = await store.add_key(first.tenant_id, AUDITOR)
        other_auditor = await store.add_key(second.tenant_id, AUDITOR)
        assert await store.tenant_for_api_key(auditor.api_key) is None, "an auditor key cannot submit events"
        return first, auditor, other_auditor

    first, auditor, other_auditor = call_database(audit.dsn, tenants)
    _, event_id = new_event(audit, first.tenant_id)
    url = audit.services[0][1]

    def get(key: IssuedKey | None, event: str = event_id) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key.api_key}"} if key else {}
        return httpx.get(f"{url}/v1/audit/events/{event}", headers=headers)

    answer = get(auditor)
    assert answer.status_code == 200, answer.text
    assert answer.json()["summary"]["policy"]["rule"] == "refund-small"
    assert answer.json()["tenant_id"] == first.tenant_id
    assert get(other_auditor).status_code == 404
    assert get(auditor, str(uuid.uuid4())).status_code == 404
    assert get(first).status_code == 401, "a sender key does not read the trail"
    assert get(None).status_code == 401


def test_retention_removes_old_rows_and_the_chain_still_verifies(audit: AuditHarness, tmp_path: Path) -> None:
    tenant = f"tenant-{uuid.uuid4().hex[:8]}"
    old = datetime.now(UTC) - timedelta(days=40)
    new_event(audit, tenant, timestamp_ms=int(old.timestamp() * 1000))
    new_event(audit, tenant)
    assert cli(audit, "audit", "retention", "--tenant", tenant, "--days", "30").returncode == 0
    pruned = cli(audit, "audit", "prune", "--tenant", tenant)
    assert pruned.returncode == 0, pruned.stderr
    assert f"{tenant}: removed {STEPS} rows up to position {STEPS}" in pruned.stdout
    kept = audit.query("SELECT chain_seq FROM audit_log WHERE tenant_id = $1 ORDER BY chain_seq", tenant)
    assert [r["chain_seq"] for r in kept] == list(range(STEPS + 1, 2 * STEPS + 1))
    checkpoint = audit.query("SELECT * FROM audit_checkpoints WHERE tenant_id = $1", tenant)
    assert [(c["chain_seq"], c["removed_rows"]) for c in checkpoint] == [(STEPS, STEPS)]
    verified = cli(audit, "audit", "verify", "--tenant", tenant)
    assert verified.returncode == 0 and f"positions {STEPS + 1}..{2 * STEPS}" in verified.stdout
    assert "nothing has expired" in cli(audit, "audit", "prune", "--tenant", tenant).stdout


def test_retention_keeps_the_rows_of_a_broken_chain(audit: AuditHarness) -> None:
    tenant = f"tenant-{uuid.uuid4().hex[:8]}"
    new_event(audit, tenant, timestamp_ms=int((datetime.now(UTC) - timedelta(days=40)).timestamp() * 1000))
    audit.query("UPDATE audit_log SET trace_id = 'forged' WHERE tenant_id = $1 AND chain_seq = 2", tenant)
    assert cli(audit, "audit", "retention", "--tenant", tenant, "--days", "30").returncode == 0
    refused = cli(audit, "audit", "prune", "--tenant", tenant)
    assert refused.returncode == 1 and "broken chain" in refused.stderr and tenant in refused.stderr
    assert len(audit.query("SELECT id FROM audit_log WHERE tenant_id = $1", tenant)) == STEPS


def test_export_writes_rows_an_auditor_can_verify_offline(audit: AuditHarness, tmp_path: Path) -> None:
    tenant, _ = new_event(audit)
    new_event(audit, tenant)
    out = tmp_path / "trail.jsonl"
    exported = cli(audit, "audit", "export", "--tenant", tenant, "--since", "2000-01-01", "--out", str(out))
    assert exported.returncode == 0 and f"wrote {2 * STEPS} rows" in exported.stdout, exported.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    rows = [
        ChainRow(
            **{
                **line,
                "record": canonical_json(line["record"]),
                "record_time": datetime.fromisoformat(line["record_time"].replace("Z", "+00:00")),
            }
        )
        for line in lines
    ]
    assert check_chain(audit_chain_key(), tenant, rows, (0, GENESIS), (rows[-1].chain_seq, rows[-1].hash)) is None
    later = cli(audit, "audit", "export", "--tenant", tenant, "--since", "2100-01-01", "--out", str(out))
    assert later.returncode == 0 and "wrote 0 rows" in later.stdout


def test_undecodable_records_are_audited_as_dead_letters_of_an_unknown_tenant(audit: AuditHarness) -> None:
    marker = uuid.uuid4().hex.encode()
    produce_raw(
        audit.connection.kafka_bootstrap, audit.topics["aios.events.received"], [(marker, b"not avro " + marker)]
    )
    rows = audit.wait_rows(
        "tenant_id = $1 AND record_type = 'aios.deadletter' AND record LIKE $2", 1, UNKNOWN_TENANT, "%undecodable%"
    )
    record = json.loads(rows[0]["record"])
    assert record["error_kind"] == "undecodable" and record["original_topic"] == audit.topics["aios.events.received"]
    assert record["original_value"]["bytes"] == len(b"not avro " + marker)
    assert cli(audit, "audit", "verify", "--tenant", UNKNOWN_TENANT).returncode == 0
