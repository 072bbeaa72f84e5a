"""Knowledge bases in PostgreSQL: idempotent ingestion, tenant isolation, removal and revisions, BM25, hybrid search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aios.retrieval.dense import DenseIndex
from aios.retrieval.documents import discover
from aios.retrieval.ingestion import ingest_files
from aios.retrieval.retriever import Query, Retriever
from aios.retrieval.settings import MODES, Mode, RetrievalSettings
from aios.retrieval.store import KnowledgeBase
from aios.retrieval.types import Passage
from tests.support.knowledge_base import create_tenant, encoder, ingest, on_kb, write_articles

LOST = """# Lost cards

If your card is lost, lock it in the app straight away. A locked card cannot be used for purchases.

When you know the card is gone, report it lost. A new card with a new number is sent by express post.
"""
FEES = """# Fees abroad

Paying in a foreign currency costs a foreign transaction fee of 3% of the amount.
Our travel card charges no foreign transaction fees at all.
"""
PIN = "# Changing your PIN\n\nChange your PIN in the app under Card settings. The new PIN works at once.\n"


def search(dsn: str, tenant_id: str, text: str, mode: Mode = "hybrid", k: int = 5) -> list[Passage]:
    vector = encoder().encode([text])[0]

    async def work(kb: KnowledgeBase) -> list[Passage]:
        return (await Retriever(kb, DenseIndex()).search([Query(tenant_id, text, vector)], k, mode))[0]

    return on_kb(dsn, work)


def test_unchanged_files_are_skipped_and_a_changed_file_replaces_its_chunks(
    migrated_database: str, tmp_path: Path
) -> None:
    tenant = create_tenant(migrated_database, "acme")
    folder = write_articles(tmp_path / "kb", {"lost-card": LOST, "fees": FEES})
    first = ingest(migrated_database, tenant, folder)
    assert (sorted(first.added), first.replaced, first.unchanged, first.failed) == (["fees", "lost-card"], [], [], [])
    revision = on_kb(migrated_database, lambda kb: kb.tenants([tenant]))[tenant].revision

    again = ingest(migrated_database, tenant, folder)
    assert (again.added, again.replaced, sorted(again.unchanged), again.chunks) == ([], [], ["fees", "lost-card"], 0)
    assert on_kb(migrated_database, lambda kb: kb.tenants([tenant]))[tenant].revision == revision

    (folder / "fees.md").write_text("# Fees abroad\n\nCard payments abroad are free of charge on every card.\n")
    changed = ingest(migrated_database, tenant, folder)
    assert (changed.added, changed.replaced, changed.unchanged) == ([], ["fees"], ["lost-card"])
    assert on_kb(migrated_database, lambda kb: kb.tenants([tenant]))[tenant].revision > revision
    documents = {d.document_id: d for d in on_kb(migrated_database, lambda kb: kb.documents(tenant))}
    assert documents["fees"].chunks == 1
    texts = [p.text for p in search(migrated_database, tenant, "foreign transaction fee abroad", k=10)]
    assert not any("3%" in text for text in texts), "the old chunks of the changed file are gone"
    assert any("free of charge" in text for text in texts)

    forced = ingest(migrated_database, tenant, folder / "fees.md", force=True)
    assert forced.replaced == ["fees"]


def test_a_tenant_never_sees_another_tenants_chunks(migrated_database: str, tmp_path: Path) -> None:
    acme = create_tenant(migrated_database, "acme")
    globex = create_tenant(migrated_database, "globex")
    ingest(migrated_database, acme, write_articles(tmp_path / "acme", {"cards": LOST, "fees": FEES}))
    # The same document id with other content: ids are per tenant.
    ingest(migrated_database, globex, write_articles(tmp_path / "globex", {"cards": PIN}))
    for mode in MODES:
        for text in ("I lost my card", "change my PIN", "foreign transaction fee"):
            acme_hits = search(migrated_database, acme, text, mode)
            globex_hits = search(migrated_database, globex, text, mode)
            assert all("PIN" not in p.text for p in acme_hits), (mode, text)
            assert {p.key.document_id for p in globex_hits} <= {"cards"}
            assert all(p.text.startswith("Change your PIN") for p in globex_hits), (mode, text)
    assert search(migrated_database, create_tenant(migrated_database, "empty"), "lost card") == []
    assert search(migrated_database, "not-a-uuid", "lost card") == []


def test_hybrid_search_ranks_the_answering_chunk_first(migrated_database: str, tmp_path: Path) -> None:
    tenant = create_tenant(migrated_database, "acme")
    ingest(migrated_database, tenant, write_articles(tmp_path / "kb", {"lost-card": LOST, "fees": FEES, "pin": PIN}))
    for mode in MODES:
        hits = search(migrated_database, tenant, "my card was stolen, what do I do", mode)
        assert hits[0].key.document_id == "lost-card", mode
        assert [p.score for p in hits] == sorted((p.score for p in hits), reverse=True)
    assert search(migrated_database, tenant, "fees when paying abroad", "hybrid")[0].key.document_id == "fees"


def test_removal_takes_the_chunks_and_moves_the_revision_the_dense_index_follows(
    migrated_database: str, tmp_path: Path
) -> None:
    tenant = create_tenant(migrated_database, "acme")
    ingest(migrated_database, tenant, write_articles(tmp_path / "kb", {"lost-card": LOST, "pin": PIN}))
    vector = encoder().encode(["change my PIN"])[0]

    async def scenario(kb: KnowledgeBase) -> None:
        retriever = Retriever(kb, DenseIndex())
        before = await retriever.search([Query(tenant, "change my PIN", vector)], 5, "dense")
        assert before[0][0].key.document_id == "pin"
        assert await kb.remove_documents(tenant, ["pin", "missing"]) == ["pin"]
        after = await retriever.search([Query(tenant, "change my PIN", vector)], 5, "dense")
        assert {p.key.document_id for p in after[0]} == {"lost-card"}

    on_kb(migrated_database, scenario)
    assert [d.document_id for d in on_kb(migrated_database, lambda kb: kb.documents(tenant))] == ["lost-card"]


def test_unreadable_files_are_reported_and_the_rest_ingested(migrated_database: str, tmp_path: Path) -> None:
    tenant = create_tenant(migrated_database, "acme")
    folder = write_articles(tmp_path / "kb", {"lost-card": LOST})
    (folder / "empty.md").write_text("\n")
    (folder / "binary.txt").write_bytes(b"\xff\xfe")
    report = ingest(migrated_database, tenant, folder)
    assert report.added == ["lost-card"]
    assert sorted(Path(file).name for file, _ in report.failed) == ["binary.txt", "empty.md"]


@pytest.mark.parametrize("generator", ["extractive", "triton"])
def test_per_tenant_draft_settings(migrated_database: str, generator: str) -> None:
    tenant = create_tenant(migrated_database, "acme")
    row = on_kb(migrated_database, lambda kb: kb.configure(tenant, generator, ["oos", "greeting"]))
    assert (row.generator, row.no_draft_labels) == (generator, ("oos", "greeting"))
    kept = on_kb(migrated_database, lambda kb: kb.configure(tenant, no_draft_labels=[]))
    assert (kept.generator, kept.no_draft_labels) == (generator, ())
    reset = on_kb(migrated_database, lambda kb: kb.configure(tenant, None, None))
    assert (reset.generator, reset.no_draft_labels) == (None, None)


def lexical_ids(dsn: str, tenant_id: str, text: str, settings: RetrievalSettings | None = None) -> list[str]:
    async def work(kb: KnowledgeBase) -> list[Passage]:
        retriever = Retriever(kb, DenseIndex(), settings)
        return (await retriever.search([Query(tenant_id, text, np.zeros(384, np.float32))], 10, "lexical"))[0]

    return [p.key.chunk_id for p in on_kb(dsn, work)]


def test_bm25_weighs_a_rare_word_above_a_repeated_common_one(migrated_database: str, tmp_path: Path) -> None:
    tenant = create_tenant(migrated_database, "acme")
    articles = {
        "card-colours": "# Colours\n\nYour card, our card, every card and any card comes in blue. Card colours vary.",
        "card-sizes": "# Sizes\n\nEvery card has the standard size of a bank card.",
        "stolen": "# Theft\n\nIf it was stolen, call us at once and we block the card.",
    }
    ingest(migrated_database, tenant, write_articles(tmp_path / "kb", articles))
    # "card" is in every chunk, so it weighs little; "stolen" in one, so it decides.
    assert lexical_ids(migrated_database, tenant, "card card stolen")[0] == "stolen#0"
    assert lexical_ids(migrated_database, tenant, "card")[0] == "card-colours#0"  # saturating, but more is still more
    assert lexical_ids(migrated_database, tenant, "weather in paris") == []


def test_the_lexical_budget_bounds_the_candidates_and_statistics_follow_the_revision(
    migrated_database: str, tmp_path: Path
) -> None:
    tenant = create_tenant(migrated_database, "acme")
    ingest(migrated_database, tenant, write_articles(tmp_path / "kb", {"lost-card": LOST, "fees": FEES, "pin": PIN}))
    every = lexical_ids(migrated_database, tenant, "card")
    assert len(every) == 3
    assert len(lexical_ids(migrated_database, tenant, "card", RetrievalSettings(lexical_budget=1))) == 1
    # Both words together match more chunks than the budget: the rarer word ("fee") brings the candidates.
    assert lexical_ids(migrated_database, tenant, "card fee", RetrievalSettings(lexical_budget=1)) == ["fees#0"]
    vector = np.zeros(384, np.float32)

    async def scenario(kb: KnowledgeBase) -> None:
        retriever = Retriever(kb, DenseIndex())
        assert (await retriever.search([Query(tenant, "overdraft", vector)], 5, "lexical"))[0] == []
        await ingest_files(
            kb,
            encoder(),
            tenant,
            list(
                discover([write_articles(tmp_path / "more", {"overdraft": "# Overdrafts\n\nAn overdraft costs 5%."})])
            ),
            RetrievalSettings(),
        )
        found = (await retriever.search([Query(tenant, "overdraft", vector)], 5, "lexical"))[0]
        assert [p.key.document_id for p in found] == ["overdraft"]

    on_kb(migrated_database, scenario)


def test_query_words_odd_for_tsquery_are_searched_as_literals(migrated_database: str, tmp_path: Path) -> None:
    tenant = create_tenant(migrated_database, "acme")
    ingest(migrated_database, tenant, write_articles(tmp_path / "kb", {"lost-card": LOST}))
    for text in ("it's a card's PIN & | ! ( )", "back\\slash 'quoted' card", ":* <-> card"):
        assert lexical_ids(migrated_database, tenant, text) == ["lost-card#0"], text
