"""`aios model retrain` on a scratch registry: reviewers' labels from the real review store, a fixed holdout.

Corrupted feedback (reviewers relabelling everything wrongly) gives a version worse than production on
the holdout: refused, nothing registered. Honest feedback on the same data is registered, which shows the
refusal is the feedback's doing.
"""

from __future__ import annotations

import asyncio
import csv
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aios.db.pool import open_pool
from aios.inference.model_registry import LocalArtifactStore, ModelRegistry
from aios.inference.training import Example, TrainResult
from aios.review.accounts import ReviewerAccounts
from aios.review.store import ReviewStore, Verdict
from aios.schemas.records import ReviewRequested, TraceContext
from aios.settings import ConnectionSettings
from aios.tenants.store import TenantStore
from tests.support.cli import aios
from tests.support.decide import enriched_value
from tests.support.tiny_models import ClincSubset, publish

TRACE = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tracestate": None}


def write_csv(path: Path, examples: list[Example]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows((e.text, e.label) for e in examples)
    return path


def tenant_with_feedback(dsn: str, labelled: list[Example]) -> str:
    """A tenant whose reviewer relabelled one review item per example to the example's label."""

    async def work() -> str:
        async with open_pool(dsn) as pool:
            tenants, store = TenantStore(pool), ReviewStore(pool)
            name = f"retrain-{uuid.uuid4().hex[:8]}"
            tenant_id = (await tenants.create_tenant(name)).tenant_id
            reviewer = await ReviewerAccounts(pool).add(
                await tenants.resolve(tenant_id), "rita", "a long enough password"
            )
            for example in labelled:
                event = enriched_value(tenant_id, text=example.text, label="balance", confidence=0.4)
                request = ReviewRequested.from_avro(
                    {
                        **{k: event[k] for k in ("event_id", "tenant_id", "occurred_at", "type", "text", "attributes")},
                        "review_id": uuid.uuid4().hex,
                        "reason": "unsure",
                        "priority": 3,
                        "sla_deadline": datetime.now(UTC) + timedelta(hours=1),
                        "classification": event["classification"],
                        "passages": [],
                        "draft": None,
                        "proposed_actions": [],
                        "policy": {"version": "v1", "rule": "unsure"},
                        "trace": TRACE,
                    }
                )
                await store.store_requests([request])
                await store.claim(reviewer, request.review_id, 60)
                verdict = Verdict("RELABEL", corrected_label=example.label)
                await store.complete(reviewer, request.review_id, verdict, TraceContext.from_avro(TRACE))
            return name

    return asyncio.run(work())


def test_corrupted_feedback_is_refused_and_honest_feedback_registered(
    connection: ConnectionSettings,
    migrated_database: str,
    clinc_small: ClincSubset,
    tiny_versions: list[TrainResult],
    tmp_path: Path,
) -> None:
    store = LocalArtifactStore(tmp_path / "models")
    publish(migrated_database, store, "intents", tiny_versions[0], "production")
    files = [
        "--data", str(write_csv(tmp_path / "train.csv", clinc_small.train)),
        "--val-data", str(write_csv(tmp_path / "val.csv", clinc_small.val)),
        "--holdout", str(write_csv(tmp_path / "holdout.csv", clinc_small.test)),
        "--margin", "0.2",  # 10 out-of-scope rows in the holdout: one of them is 0.1 of oos recall
    ]  # fmt: skip
    env = {
        "AIOS_POSTGRES_DSN": migrated_database,
        "AIOS_MODEL_ARTIFACT_DIR": str(store.root_dir),
        "AIOS_MODEL_FINETUNE": "false",
        "AIOS_MODEL_FROZEN_EPOCHS": "10",
        "AIOS_MODEL_DEVICE": "cpu",
    }
    labels = sorted({e.label for e in clinc_small.train})
    wrong = [Example(e.text, labels[(labels.index(e.label) + 1) % len(labels)]) for e in clinc_small.train]
    corrupted = tenant_with_feedback(migrated_database, wrong * 2)
    refused = aios("model", "retrain", "intents", "--tenant", corrupted, *files, "--json", env=env)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "Not registered" in refused.stderr and "accuracy" in refused.stderr
    assert _versions(migrated_database) == [1]

    honest = tenant_with_feedback(migrated_database, clinc_small.train[:40])
    registered = aios("model", "retrain", "intents", "--tenant", honest, *files, "--json", env=env)
    assert registered.returncode == 0, registered.stderr
    outcome = json.loads(registered.stdout)
    assert (outcome["version"], outcome["feedback"]) == (2, 40)
    assert outcome["holdout"]["candidate"]["n"] == len(clinc_small.test)
    assert _versions(migrated_database) == [1, 2]


def _versions(dsn: str) -> list[int]:
    async def work() -> list[int]:
        async with open_pool(dsn, max_size=1) as pool:
            return [v.version for v in await ModelRegistry(pool).versions("intents")]

    return asyncio.run(work())
