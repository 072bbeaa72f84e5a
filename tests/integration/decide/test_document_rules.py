"""Document events through the real decide process: each kind of document rule of the shipped
accounts-payable and claims policies, over reference data in PostgreSQL and signals across documents.

What extract records of each document (fields with confidences, checks, duplicate) is written with
extract's own index, as extract writes it before sending the event on; the events then go through
decide on private topics, one partition so that each tenant's documents arrive in receipt order.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from aios.db.pool import open_pool
from aios.db.scratch import scratch_database
from aios.extract.index import DocumentIndex, DocumentKeys
from aios.kafka.scratch import ScratchTopics
from aios.paths import project_root
from aios.policy.reference import Kind
from aios.refdata.parsing import parse_file
from aios.refdata.store import RefdataStore
from aios.settings import ConnectionSettings
from tests.support.decide import DecideProcess, DecideTopics, TopicIO, create_tenant_with_policy, enriched_value
from tests.support.http_target import free_port

POLICIES = project_root() / "policies"
SAMPLES = POLICIES / "samples"
EXPECTED = {
    "payables": {
        "inv-touchless": ("AUTO", "touchless-invoice"),
        "inv-unknown-vendor": ("REVIEW", "unknown-vendor"),
        "inv-po-missing": ("REVIEW", "no-open-po"),
        "inv-po-off": ("REVIEW", "po-amount-off"),
        "inv-totals-wrong": ("REVIEW", "checks-failed"),
        "inv-low-confidence": ("REVIEW", "low-confidence"),
        "inv-duplicate": ("REJECT", "duplicate-invoice"),
        "inv-iban-changed": ("REVIEW", "vendor-iban-changed"),
        "inv-second-iban-on-file": ("AUTO", "touchless-invoice"),
    },
    "claims": {
        "clm-touchless": ("AUTO", "touchless-claim"),
        "clm-unknown-policy": ("REVIEW", "unknown-policy"),
        "clm-lapsed": ("REJECT", "not-active-on-loss-date"),
        "clm-not-covered": ("REJECT", "loss-not-covered"),
        "clm-over-limit": ("REVIEW", "over-limit"),
        "clm-low-confidence": ("REVIEW", "low-confidence"),
        "clm-duplicate": ("REJECT", "duplicate-claim"),
        "clm-shared-iban": ("REVIEW", "shared-iban"),
        "clm-burst": ("REVIEW", "claim-burst"),
    },
}
REFDATA: dict[str, list[tuple[Kind, str]]] = {
    "payables": [("vendors", "payables-vendors.csv"), ("purchase-orders", "payables-purchase-orders.csv")],
    "claims": [("policies", "claims-policies.csv")],
}


def prepare(dsn: str, name: str) -> tuple[str, int]:
    """The tenant with its shipped policy and sample reference data imported; its last revision."""
    tenant_id = create_tenant_with_policy(dsn, name, (POLICIES / f"{name}.yaml").read_text())

    async def work() -> int:
        async with open_pool(dsn) as pool:
            revision = 0
            for kind, file in REFDATA[name]:
                parsed = parse_file(kind, (SAMPLES / file).read_text())
                imported = await RefdataStore(pool).import_rows(
                    tenant_id, kind, parsed.rows, rejected=0, replace=False, source=file, imported_by="tests"
                )
                revision = imported.revision
            return revision

    return tenant_id, asyncio.run(work())


def documents(dsn: str, tenant_id: str, name: str) -> list[tuple[str, dict[str, Any]]]:
    """(sample id, enriched event) per sample document, its reading recorded as extract records it."""
    samples = [json.loads(line) for line in (SAMPLES / f"{name}-events.jsonl").read_text().splitlines() if line]
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=len(samples))
    events: list[dict[str, Any]] = []

    async def record() -> None:
        async with open_pool(dsn) as pool:
            for position, (sample, event) in enumerate(zip(samples, events, strict=True)):
                document = sample["document"]
                keys = DocumentKeys(uuid.uuid4().hex, None, None, None, None)
                received = start + timedelta(minutes=position)
                await DocumentIndex(pool).record(
                    tenant_id, event["event_id"], received, document["document_type"], keys, document
                )

    for position, sample in enumerate(samples):
        kind = sample["document"]["document_type"]
        event = enriched_value(tenant_id, "", "invoice", 0.4, event_type=f"document.{kind}", draft=None)
        event["occurred_at"] = start + timedelta(minutes=position)
        events.append(event)
    asyncio.run(record())
    return [(sample["event_id"], event) for sample, event in zip(samples, events, strict=True)]


Harness = tuple[str, TopicIO, DecideTopics, DecideProcess]
"""The scratch database's DSN, topic IO, the private topics and the decide process."""


@pytest.fixture(scope="module")
def decide(connection: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with (
        ScratchTopics(connection.kafka_bootstrap, connection.schema_registry_url) as scratch,
        scratch_database(connection.postgres_dsn.get_secret_value()) as dsn,
    ):
        topics = DecideTopics(
            enriched=scratch.make("aios.events.enriched", partitions=1),
            completed=scratch.make("aios.review.completed", partitions=1),
            decisions=scratch.make("aios.decisions", partitions=1),
            review_requested=scratch.make("aios.review.requested", partitions=1),
            deadletter=scratch.make("aios.deadletter", partitions=1),
        )
        process = DecideProcess(connection, topics, dsn, tmp_path_factory.mktemp("decide-documents"))
        process.env["AIOS_DECIDE_METRICS_PORT"] = str(free_port())
        process.start()
        try:
            yield dsn, TopicIO(connection, topics), topics, process
        finally:
            if process.process is not None:
                assert process.stop() == 0, process.tail()
            process.delete_internal_topics()


@pytest.mark.parametrize("name", ["payables", "claims"])
def test_each_document_rule_decides_through_decide(decide: Harness, name: str) -> None:
    dsn, io, topics, process = decide
    tenant_id, revision = prepare(dsn, name)
    sent = documents(dsn, tenant_id, name)
    io.produce(topics.enriched, [event for _, event in sent])
    ids = {event["event_id"]: sample for sample, event in sent}
    wanted = EXPECTED[name]
    reviewed = sum(outcome == "REVIEW" for outcome, _ in wanted.values())

    def mine(values: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {ids[v["event_id"]]: v for v in values if v["event_id"] in ids}

    decisions = mine(io.read(topics.decisions, lambda vs: len(mine(vs)) >= len(wanted) - reviewed))
    reviews = mine(io.read(topics.review_requested, lambda vs: len(mine(vs)) >= reviewed))
    got = {sample: (d["outcome"], d["policy"]["rule"]) for sample, d in decisions.items()}
    got.update({sample: ("REVIEW", r["policy"]["rule"]) for sample, r in reviews.items()})
    assert got == wanted, process.tail()
    assert {d["refdata_revision"] for d in decisions.values()} == {revision}
    touchless = decisions[f"{'inv' if name == 'payables' else 'clm'}-touchless"]
    assert touchless["actions"][1]["params"]["iban"] in {"DE89370400440532013000", "ES9121000418450200051332"}

    # Operations: each decision counted by tenant, document type, outcome and rule (a review's reason).
    scraped = httpx.get(f"http://127.0.0.1:{process.env['AIOS_DECIDE_METRICS_PORT']}/metrics", timeout=10).text
    samples = [s for family in text_string_to_metric_families(scraped) for s in family.samples]
    document_type = "invoice" if name == "payables" else "claim"
    counted = {
        (s.labels["document_type"], s.labels["outcome"], s.labels["rule"]): s.value
        for s in samples
        if s.name == "aios_document_decisions_total" and s.labels["tenant"] == tenant_id
    }
    assert counted == Counter((document_type, *decided) for decided in wanted.values())
    timed = [
        s.value
        for s in samples
        if s.name == "aios_document_decision_seconds_count" and s.labels["document_type"] == document_type
    ]
    assert timed == [len(wanted) - reviewed]  # upload to decision, by policy
