"""`aios model` end to end: train on a CLINC150 subset, register, predict, eval, promote, list.

The model is small (10 intents x 20 examples, one epoch) so the test stays well under a minute; it
must still beat chance clearly on held-out examples of those intents.
"""

from __future__ import annotations

import asyncio
import csv
import json
import uuid
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from aios.cli.main import app as main_app
from aios.cli.model import app
from aios.db.pool import open_pool
from aios.inference.model_registry import ModelRegistry
from aios.paths import project_root
from aios.settings import ConnectionSettings

INTENTS = 10
PER_INTENT = 20


@pytest.fixture
def clinc_subset(tmp_path: Path) -> tuple[Path, Path]:
    data = json.loads((project_root() / "data" / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    intents = sorted({label for _, label in data["train"]})[:INTENTS]
    train = [row for intent in intents for row in [r for r in data["train"] if r[1] == intent][:PER_INTENT]]
    held_out = [row for row in data["test"] if row[1] in intents]
    train_path, test_path = tmp_path / "train.csv", tmp_path / "test.jsonl"
    with train_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["utterance", "intent"])
        writer.writerows(train)
    test_path.write_text("".join(json.dumps({"utterance": t, "intent": y}) + "\n" for t, y in held_out), "utf-8")
    return train_path, test_path


@pytest.fixture
def model_env(
    connection: ConnectionSettings, migrated_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ConnectionSettings:
    """The CLI on a database of its own: the aliases it makes never reach workers of other tests or the demo."""
    monkeypatch.setenv("AIOS_POSTGRES_DSN", migrated_database)
    monkeypatch.setenv("AIOS_MODEL_ARTIFACT_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("AIOS_MODEL_DEVICE", "cpu")
    return connection.model_copy(update={"postgres_dsn": SecretStr(migrated_database)})


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.stdout


def test_train_predict_eval_promote(model_env: ConnectionSettings, clinc_subset: tuple[Path, Path]) -> None:
    train_path, test_path = clinc_subset
    name = f"test-{uuid.uuid4().hex[:8]}"
    common = ["--data", str(train_path), "--text-col", "utterance", "--label-col", "intent", "--name", name]
    first = json.loads(_invoke("train", *common, "--epochs", "1", "--finetune", "--json"))
    second = json.loads(_invoke("train", *common, "--frozen", "--json"))
    assert (first["name"], first["version"], second["version"]) == (name, 1, 2)
    assert {"accuracy", "macro_f1"} <= first["metrics"]["validation"].keys()

    lines = _invoke("predict", f"{name}:1", "--data", str(test_path), "--text-col", "utterance", "--json").splitlines()
    held_out = [json.loads(line) for line in test_path.read_text("utf-8").splitlines()]
    predictions = [json.loads(line) for line in lines]
    assert [p["text"] for p in predictions] == [h["utterance"] for h in held_out]
    assert all(set(p) == {"text", "label", "confidence"} and 0 <= p["confidence"] <= 1 for p in predictions)
    hits = sum(p["label"] == h["intent"] for p, h in zip(predictions, held_out, strict=True))
    assert hits / len(held_out) > 5 / INTENTS  # chance is 1/10

    evaluation = json.loads(
        _invoke(
            "eval", f"{name}:1", "--data", str(test_path), "--text-col", "utterance", "--label-col", "intent", "--json"
        )
    )
    assert evaluation["version"] == 1 and evaluation["metrics"]["accuracy"] == pytest.approx(
        hits / len(held_out), abs=1e-3
    )

    no_alias = CliRunner().invoke(app, ["predict", name, "--data", str(test_path), "--text-col", "utterance"])
    assert no_alias.exit_code != 0  # no production alias yet

    _invoke("promote", name, "2", "--alias", "production")
    _invoke("promote", name, "1", "--alias", "canary", "--share", "0.1")
    acme = json.loads(CliRunner().invoke(main_app, ["tenants", "create", f"acme-{name}", "--json"]).output)
    _invoke("promote", name, "1", "--alias", "production", "--tenant", acme["name"])
    unknown = CliRunner().invoke(main_app, ["model", "promote", name, "1", "--alias", "canary", "--tenant", "nobody-x"])
    assert unknown.exit_code != 0, "an alias for a tenant that does not exist is refused"
    default_lines = _invoke("predict", name, "--data", str(test_path), "--text-col", "utterance", "--json")
    assert len(default_lines.splitlines()) == len(held_out)

    listing = {row["version"]: row for row in json.loads(_invoke("list", "--json")) if row["name"] == name}
    assert {(a["alias"], a["tenant"], a["share"]) for a in listing[1]["aliases"]} == {
        ("canary", None, 0.1),
        ("production", acme["tenant_id"], 1.0),
    }
    assert [(a["alias"], a["tenant"]) for a in listing[2]["aliases"]] == [("production", None)]


def test_alias_revision_reveals_promotions(model_env: ConnectionSettings, clinc_subset: tuple[Path, Path]) -> None:
    train_path, _ = clinc_subset
    name = f"test-{uuid.uuid4().hex[:8]}"
    _invoke(
        "train",
        "--data",
        str(train_path),
        "--text-col",
        "utterance",
        "--label-col",
        "intent",
        "--name",
        name,
        "--frozen",
        "--epochs",
        "5",
        "--json",
    )

    async def scenario() -> None:
        async with open_pool(model_env.postgres_dsn.get_secret_value(), max_size=2) as pool:
            registry = ModelRegistry(pool)
            before = await registry.aliases_revision()
            await registry.promote(name, 1, "shadow")
            after = await registry.aliases_revision()
            assert after > before
            changed = await registry.changed_since(before)
            assert [(row.name, row.alias, row.version) for row in changed] == [(name, "shadow", 1)]
            assert (await registry.resolve(name, "shadow", tenant="anyone")).version == 1

    asyncio.run(scenario())
