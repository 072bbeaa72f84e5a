"""`aios kb` as an operator runs it, against a database of the test's own."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import aios
from tests.support.knowledge_base import create_tenant, write_articles

ARTICLES = {
    "lost-card": "# Lost cards\n\nIf your card is lost, lock it in the app. Then report it lost to get a new card.\n",
    "fees": "# Fees abroad\n\nPaying in a foreign currency costs a fee of 3% of the amount.\n",
    "pin": "# Changing your PIN\n\nChange your PIN in the app under Card settings.\n",
}


def test_add_list_search_eval_configure_remove(migrated_database: str, tmp_path: Path) -> None:
    env = {"AIOS_POSTGRES_DSN": migrated_database, "AIOS_MODEL_DEVICE": "cpu"}
    create_tenant(migrated_database, "acme")
    folder = write_articles(tmp_path / "kb", ARTICLES)
    (folder / "notes.csv").write_text("ignored: not a document type")

    added = aios("kb", "add", "--tenant", "acme", str(folder), "--json", env=env)
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout) | {"chunks": 0} == {
        "added": ["fees", "lost-card", "pin"],
        "replaced": [],
        "unchanged": [],
        "failed": [],
        "chunks": 0,
    }
    listed = json.loads(aios("kb", "list", "--tenant", "acme", "--json", env=env).stdout)
    assert [(d["document_id"], d["title"], d["chunks"]) for d in listed] == [
        ("fees", "Fees abroad", 1),
        ("lost-card", "Lost cards", 1),
        ("pin", "Changing your PIN", 1),
    ]

    found = aios("kb", "search", "--tenant", "acme", "I lost my card", "--k", "2", "--json", env=env)
    hits = json.loads(found.stdout)
    assert [hit["rank"] for hit in hits] == [1, 2]
    assert hits[0]["document_id"] == "lost-card" and hits[0]["chunk_id"] == "lost-card#0"
    assert hits[0]["snippet"].startswith("If your card is lost") and hits[0]["score"] > 0

    qa = tmp_path / "qa.jsonl"
    qa.write_text(
        "\n".join(
            json.dumps({"query": q, "relevant": [r]})
            for q, r in [("my card is gone", "lost-card"), ("fee abroad", "fees"), ("new pin", "pin")]
        )
    )
    scores = json.loads(aios("kb", "eval", "--tenant", "acme", "--data", str(qa), "--json", env=env).stdout)
    assert set(scores) == {"lexical", "dense", "hybrid"}
    assert scores["hybrid"]["queries"] == 3 and scores["hybrid"]["recall@10"] == 1.0
    assert set(scores["dense"]) == {"queries", "recall@1", "recall@5", "recall@10", "mrr@10"}

    configured = aios(
        "kb", "configure", "--tenant", "acme", "--generator", "triton", "--no-draft", "oos", "--json", env=env
    )
    assert json.loads(configured.stdout)["generator"] == "triton"
    assert json.loads(configured.stdout)["no_draft_labels"] == ["oos"]
    refused = aios("kb", "configure", "--tenant", "acme", "--generator", "gpt", env=env)
    assert refused.returncode == 1 and "unknown generator 'gpt'" in refused.stderr
    # One label generative, another extractive, the rest following the tenant's generator (triton).
    aios("kb", "configure", "--tenant", "acme", "--generator", "openai", "--intent", "pin_change", env=env)
    by_intent = aios(
        "kb",
        "configure",
        "--tenant",
        "acme",
        "--generator",
        "extractive",
        "--intent",
        "report_fraud",
        "--json",
        env=env,
    )
    shown = json.loads(by_intent.stdout)
    assert shown["generator_by_intent"] == {"pin_change": "openai", "report_fraud": "extractive"}
    assert shown["generator"] == "triton"
    reset = aios(
        "kb", "configure", "--tenant", "acme", "--generator", "default", "--intent", "pin_change", "--json", env=env
    )
    assert json.loads(reset.stdout)["generator_by_intent"] == {"report_fraud": "extractive"}
    lonely = aios("kb", "configure", "--tenant", "acme", "--intent", "pin_change", env=env)
    assert lonely.returncode != 0 and "--intent needs --generator" in lonely.stderr

    removed = aios("kb", "remove", "--tenant", "acme", "pin", "nothing", env=env)
    assert removed.returncode == 1
    assert "removed pin" in removed.stdout and "no such document: nothing" in removed.stderr
    unknown = aios("kb", "list", "--tenant", "nobody", env=env)
    assert unknown.returncode == 1 and "nobody" in unknown.stderr
