"""The retrieve-generate service end to end: a real process on private topics and a private database."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aios.bench.retrieval import classified_value
from aios.kafka.serde import Codecs
from aios.paths import project_root
from aios.retrieval.endpoint import GeneratorEndpoint
from aios.settings import ConnectionSettings
from aios.stack.llm import MODEL_NAME
from tests.support.database import call_database
from tests.support.kafka_io import at_least, produce_raw, read_topic, value_of
from tests.support.knowledge_base import create_tenant, ingest, on_kb, write_articles
from tests.support.llm_process import needs_llm, private_llm
from tests.support.standin_process import MODEL, start_standin

CLASSIFIED, ENRICHED, DEADLETTER = "aios.events.classified", "aios.events.enriched", "aios.deadletter"

ACME = {
    "lost-card": "# Lost or stolen cards\n\nIf your card is lost, lock it in the app straight away. "
    "A locked card cannot be used for new purchases.\n\nWhen you know the card is gone, report it lost in the app. "
    "A new card with a new number is sent to you by express post.\n",
    "fees": "# Fees abroad\n\nPaying in a foreign currency costs a foreign transaction fee of 3% of the amount. "
    "Our travel card charges no foreign transaction fees.\n",
}
GLOBEX = {
    "lost-card": "# Missing cards\n\nA missing card must be blocked by calling the branch that issued it. "
    "Replacement cards are collected at that branch after five working days.\n",
}


class Service:
    def __init__(self, log: Path, env: dict[str, str]) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.retrieve_generate"],
            cwd=project_root(),
            env={**os.environ, **env},
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


@pytest.fixture
def pipeline(topics: Callable[..., str], connection: ConnectionSettings) -> tuple[str, str, str, Codecs]:
    names = topics(CLASSIFIED, partitions=3), topics(ENRICHED, partitions=3), topics(DEADLETTER, partitions=1)
    return (
        *names,
        Codecs(
            connection.schema_registry_url, carries=dict(zip(names, (CLASSIFIED, ENRICHED, DEADLETTER), strict=True))
        ),
    )


@pytest.fixture
def service(
    pipeline: tuple[str, str, str, Codecs],
    connection: ConnectionSettings,
    migrated_database: str,
    group_id: str,
    tmp_path: Path,
) -> Iterator[Callable[..., Service]]:
    started: list[Service] = []
    source, sink, dead, _ = pipeline

    def start(**env: str) -> Service:
        settings = {
            "AIOS_KAFKA_BOOTSTRAP": connection.kafka_bootstrap,
            "AIOS_SCHEMA_REGISTRY_URL": connection.schema_registry_url,
            "AIOS_POSTGRES_DSN": migrated_database,
            "AIOS_RETRIEVE_GENERATE_INPUT_TOPIC": source,
            "AIOS_RETRIEVE_GENERATE_OUTPUT_TOPIC": sink,
            "AIOS_RETRIEVE_GENERATE_GROUP_ID": group_id,
            "AIOS_RETRIEVE_GENERATE_METRICS_PORT": "0",
            "AIOS_RETRIEVE_GENERATE_PASSAGES": "3",
            "AIOS_LOOP_DEADLETTER_TOPIC": dead,
            "AIOS_LOOP_MAX_WAIT_MS": "50",
            "AIOS_MODEL_DEVICE": "cpu",
            **env,
        }
        started.append(Service(tmp_path / f"service-{len(started)}.log", settings))
        return started[-1]

    yield start
    for running in started:
        running.stop()


def produce(connection: ConnectionSettings, codecs: Codecs, topic: str, values: list[dict[str, Any]]) -> None:
    produce_raw(
        connection.kafka_bootstrap,
        topic,
        [(f"{v['tenant_id']}:{v['event_id']}".encode(), codecs.encode(topic, v)) for v in values],
    )


def enriched(connection: ConnectionSettings, codecs: Codecs, topic: str, count: int) -> dict[str, dict[str, Any]]:
    messages = read_topic(connection.kafka_bootstrap, topic, at_least(count), timeout_s=120)
    values = [codecs.decode(topic, value_of(m)) for m in messages]
    return {v["event_id"]: v for v in values}


def cited_sentences(draft: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    body = draft["text"].split("\n\n", 1)[-1]
    return [(s.strip(), draft["citations"][int(n) - 1]) for s, n in re.findall(r"(.+?) \[(\d+)\]", body)]


def test_events_are_enriched_with_their_tenants_passages_and_cited_drafts(
    pipeline: tuple[str, str, str, Codecs],
    connection: ConnectionSettings,
    migrated_database: str,
    service: Callable[..., Service],
    tmp_path: Path,
) -> None:
    source, sink, dead, codecs = pipeline
    acme = create_tenant(migrated_database, "acme")
    globex = create_tenant(migrated_database, "globex")
    ingest(migrated_database, acme, write_articles(tmp_path / "acme", ACME))
    ingest(migrated_database, globex, write_articles(tmp_path / "globex", GLOBEX))
    standin = start_standin(tmp_path)
    on_kb(migrated_database, lambda kb: kb.configure(globex, "triton"))
    text = "I lost my card, please help. Reach me at jane.doe@example.com or +44 20 7946 0958."
    events = {
        "acme": classified_value(text, acme, "report_lost_card"),
        "acme-oos": classified_value("what is the weather in Paris", acme, "oos"),
        "acme-unrelated": classified_value("blah", acme, "report_lost_card"),
        "globex": classified_value(text, globex, "report_lost_card"),
        "nobody": classified_value(text, "tenant-without-kb", "report_lost_card"),
    }
    produce(connection, codecs, source, list(events.values()))
    produce_raw(connection.kafka_bootstrap, source, [(b"bad", b"\x00\x00\x00\x00\x01not avro")])
    running = service(AIOS_RETRIEVE_GENERATE_TRITON_URL=standin.url, AIOS_RETRIEVE_GENERATE_TRITON_MODEL=MODEL)
    try:
        out = enriched(connection, codecs, sink, len(events))
    finally:
        standin.stop()
    assert set(out) == {e["event_id"] for e in events.values()}
    records = {name: out[e["event_id"]] for name, e in events.items()}

    # Extractive draft for acme: acme's passages only, every sentence verbatim from the chunk it cites.
    lost = records["acme"]
    assert lost["classification"] == events["acme"]["classification"] and lost["text"] == text
    assert lost["passages"] and {p["document_id"] for p in lost["passages"]} <= set(ACME)
    assert lost["passages"][0]["document_id"] == "lost-card"
    draft = lost["draft"]
    assert draft["generator"] == "extractive" and lost["draft_skipped"] is None
    assert draft["text"].startswith("We are sorry your card is missing.")
    retrieved = {p["chunk_id"] for p in lost["passages"]}
    sentences = cited_sentences(draft)
    assert sentences and {c["chunk_id"] for _, c in sentences} <= retrieved
    for sentence, citation in sentences:
        assert sentence in ACME[citation["document_id"]]
    assert lost["pii_found"] == ["email", "phone"]
    assert "jane.doe" not in draft["text"]
    assert set(lost["timings_ms"]) == {"embed", "retrieve", "generate"}

    # Policy: oos gets no retrieval and no draft, but still reaches the next service.
    oos = records["acme-oos"]
    assert (oos["passages"], oos["draft"], oos["draft_skipped"]) == ([], None, "policy")

    # Globex chose the Triton generator; its passages are its own.
    other = records["globex"]
    assert {p["document_id"] for p in other["passages"]} == {"lost-card"}
    assert all("branch" in p["snippet"] or "Replacement" in p["snippet"] for p in other["passages"])
    assert other["draft"]["generator"] == "triton" and other["draft"]["generator_version"] == f"{MODEL}:1"
    assert other["draft"]["citations"] == [{"document_id": "lost-card", "chunk_id": "lost-card#0"}]
    assert other["pii_found"] == ["email", "phone"]

    # Nothing to retrieve for a tenant without a knowledge base; nothing similar enough to draft from "blah".
    assert (records["nobody"]["draft"], records["nobody"]["draft_skipped"]) == (None, "no_passages")
    assert set(records["nobody"]["timings_ms"]) == {"embed", "retrieve"}
    assert oos["timings_ms"] == {}
    assert records["acme-unrelated"]["draft"] is None
    assert records["acme-unrelated"]["draft_skipped"] in {"no_answer", "no_passages"}

    dead_letters = read_topic(connection.kafka_bootstrap, dead, at_least(1), timeout_s=30)
    assert len(dead_letters) == 1
    assert "undecodable" in codecs.decode(dead, value_of(dead_letters[0]))["reason"]

    # A document added while the service runs is found by the next event (the KB revision moved).
    ingest(
        migrated_database,
        acme,
        write_articles(
            tmp_path / "acme-more",
            {"gold": "# Gold card\n\nThe gold card gives airport lounge access on every trip abroad.\n"},
        ),
    )
    later = classified_value("does the gold card give lounge access at the airport", acme, "new_card")
    produce(connection, codecs, source, [later])
    record = enriched(connection, codecs, sink, len(events) + 1)[later["event_id"]]
    assert record["passages"][0]["document_id"] == "gold"
    assert running.stop() == 0


@needs_llm
def test_generative_drafts_per_intent_are_guarded_and_a_stopped_model_falls_back_losing_nothing(
    pipeline: tuple[str, str, str, Codecs],
    connection: ConnectionSettings,
    migrated_database: str,
    service: Callable[..., Service],
    tmp_path: Path,
) -> None:
    source, sink, _, codecs = pipeline
    acme = create_tenant(migrated_database, "acme")
    ingest(migrated_database, acme, write_articles(tmp_path / "acme", ACME))
    on_kb(migrated_database, lambda kb: kb.configure_label(acme, "report_lost_card", "openai"))
    lost = "I lost my card, what should I do now?"
    first = [classified_value(lost, acme, "report_lost_card") for _ in range(3)]
    first.append(classified_value("what fee do I pay abroad in a foreign currency", acme, "international_fees"))
    with private_llm(tmp_path / "llm") as model:
        running = service(AIOS_RETRIEVE_GENERATE_OPENAI_URL=model.url, AIOS_RETRIEVE_GENERATE_DRAFT_BUDGET_S="60")
        produce(connection, codecs, source, first)
        out = enriched(connection, codecs, sink, len(first))
    # The model is stopped now: the same label falls back to extractive, and every event is still enriched.
    second = [classified_value(lost, acme, "report_lost_card") for _ in range(3)]
    produce(connection, codecs, source, second)
    out = enriched(connection, codecs, sink, len(first) + len(second))
    assert running.stop() == 0
    assert {e["event_id"] for e in first + second} <= set(out)

    fees = out[first[-1]["event_id"]]
    assert fees["draft"]["generator"] == "extractive" and fees["grounding"] is None
    for event in first[:3]:
        record = out[event["event_id"]]
        grounding = record["grounding"]
        assert grounding["generator"] == "openai"
        assert grounding["fell_back"] == (record["draft"]["generator"] == "extractive")
        assert grounding["fallback_reason"] in (None, "ungrounded", "no_answer")
        assert all(d["reason"] for d in grounding["dropped"])
        assert record["draft"]["text"].startswith("We are sorry your card is missing.")
    for event in second:
        record = out[event["event_id"]]
        assert record["grounding"]["fell_back"] and record["grounding"]["fallback_reason"] == "generator_error"
        assert record["draft"]["generator"] == "extractive"


@needs_llm
def test_a_tenant_drafts_on_its_own_server_kept_sealed_and_the_others_on_the_services(
    pipeline: tuple[str, str, str, Codecs],
    connection: ConnectionSettings,
    migrated_database: str,
    service: Callable[..., Service],
    tmp_path: Path,
) -> None:
    source, sink, _, codecs = pipeline
    acme, globex = create_tenant(migrated_database, "acme"), create_tenant(migrated_database, "globex")
    ingest(migrated_database, acme, write_articles(tmp_path / "acme", ACME))
    ingest(migrated_database, globex, write_articles(tmp_path / "globex", GLOBEX))
    on_kb(migrated_database, lambda kb: kb.configure(acme, "openai"))
    on_kb(migrated_database, lambda kb: kb.configure(globex, "openai"))
    with private_llm(tmp_path / "llm") as model:
        own = GeneratorEndpoint(model.url, MODEL_NAME, "acme-key-0042")
        on_kb(migrated_database, lambda kb: kb.set_endpoint(acme, own))
        # The service's own server is gone: only a tenant with its own endpoint gets generative drafts.
        running = service(
            AIOS_RETRIEVE_GENERATE_OPENAI_URL="http://127.0.0.1:9/v1", AIOS_RETRIEVE_GENERATE_DRAFT_BUDGET_S="60"
        )
        asked = [("I lost my card, what should I do now?", acme), ("my card is missing, what now?", globex)] * 2
        events = [classified_value(text, tenant, "report_lost_card") for text, tenant in asked]
        produce(connection, codecs, source, events)
        out = enriched(connection, codecs, sink, len(events))
    assert running.stop() == 0
    for event in events:
        grounding = out[event["event_id"]]["grounding"]
        assert grounding["generator"] == "openai"
        if event["tenant_id"] == acme:
            assert grounding["fallback_reason"] in (None, "ungrounded", "no_answer"), grounding
        else:
            assert grounding["fell_back"] and grounding["fallback_reason"] == "generator_error"
    stored = call_database(
        migrated_database,
        lambda pool: pool.fetchval("SELECT openai_endpoint FROM kb_tenants WHERE tenant_id = $1::uuid", acme),
    )
    assert stored and "acme-key-0042" not in stored and model.url not in stored
    assert on_kb(migrated_database, lambda kb: kb.tenants([acme]))[acme].endpoint == own
