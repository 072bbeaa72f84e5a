"""`aios documents`: extract fields from PDFs and scans without the stack, train and measure the extractor.

`extract` reads files locally (no Kafka, no database unless `--model` names a registry version). `train`
registers a new extractor version in the model registry (`AIOS_POSTGRES_DSN`) unless `--out` asks for a
folder; `aios model promote document-extractor N --alias canary --share 0.1` then moves aliases as for the
classifier. `eval` reports accuracy per field on labelled documents, by default on the generator's held-out
layouts only. `seal` encrypts documents stored in the object store before encryption at rest.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, cast

import typer

from aios.cli import documents_feedback
from aios.db.pool import run_on_database
from aios.documents.errors import DocumentRejected
from aios.documents.extraction import extract_document
from aios.documents.extractor import FieldExtractor, LearnedExtractor, RuleExtractor
from aios.documents.labelled import Labelled, from_generated, load_labelled, media_type_of, write_labelled
from aios.documents.models import DeclaredType, fields_of
from aios.documents.registry import EXTRACTOR_MODEL, default_extractor, load_registered, publish_extractor
from aios.documents.settings import ExtractionSettings
from aios.documents.synthetic import HELD_OUT_LAYOUTS, LAYOUTS, dataset
from aios.documents.training import CORRECTION_WEIGHT, data_sha256, evaluate, train
from aios.inference.model_registry import LocalArtifactStore, ModelRegistry, parse_ref
from aios.inference.settings import ModelSettings
from aios.keys.documents import sealed_store

app = typer.Typer(
    no_args_is_help=True, help="Extract fields from invoices and claims; train and measure the extractor."
)

app.add_typer(documents_feedback.app, name="feedback")

_JSON = typer.Option(False, "--json", help="JSON output, for scripts.")
_MODEL = typer.Option(
    None, "--model", help="Registry NAME[:VERSION] (its production alias without a version), 'rules', or a folder."
)
TUNING_LAYOUTS = [n for n in range(LAYOUTS) if n not in HELD_OUT_LAYOUTS]


def artifact_store() -> LocalArtifactStore:
    """The classifier's artifact store (`AIOS_MODEL_ARTIFACT_DIR`), without importing torch as its home does."""
    return LocalArtifactStore(ModelSettings().artifact_dir)


def _extractor(ref: str | None) -> FieldExtractor:
    if ref is None:
        return default_extractor()
    if ref == "rules":
        return RuleExtractor()
    if Path(ref).is_dir():
        return LearnedExtractor.load(Path(ref), f"folder:{Path(ref).name}")
    name, version = parse_ref(ref)

    async def find(registry: ModelRegistry) -> Any:
        return await registry.resolve(name) if version is None else await registry.get(name, version)

    return load_registered(artifact_store(), run_on_database(lambda pool: find(ModelRegistry(pool))))


@app.command("extract")
def extract_command(
    files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, help="PDF, PNG, JPEG or TIFF files."),
    kind: str = typer.Option("auto", "--type", help="invoice | claim | auto"),
    model: str | None = _MODEL,
    as_json: bool = _JSON,
) -> None:
    """One line per file, in order: its type, fields, checks and confidence (a rejected file says why)."""
    if kind not in ("invoice", "claim", "auto"):
        raise typer.BadParameter("--type must be invoice, claim or auto")
    declared = cast(DeclaredType, kind)
    extractor = _extractor(model)
    failed = False
    for file in files:
        try:
            result = extract_document(
                file.read_bytes(),
                media_type=media_type_of(file),
                declared_type=declared,
                extractor=extractor,
            )
        except DocumentRejected as exc:
            failed = True
            line: dict[str, Any] = {"file": str(file), "rejected": exc.kind, "reason": exc.reason}
        else:
            line = {
                "file": str(file),
                "type": result.document_type,
                "fields": result.field_values(),
                "checks": [c.model_dump() for c in result.checks],
                "confidence": result.confidence,
                "line_items": [i.model_dump(include={"description", "quantity", "unit_price", "amount"})
                               for i in result.line_items],
                "pages": result.page_count,
                "ocr": result.ocr_engine,
                "extractor_version": result.extractor_version,
            }  # fmt: skip
        if as_json:
            typer.echo(json.dumps(line, ensure_ascii=False))
        else:
            _print_human(line)
    if failed:
        raise typer.Exit(1)


def _print_human(line: dict[str, Any]) -> None:
    if "rejected" in line:
        typer.secho(f"{line['file']}: rejected ({line['rejected']}): {line['reason']}", fg=typer.colors.RED)
        return
    typer.echo(f"{line['file']}: {line['type']} (confidence {line['confidence']:.2f}, {line['pages']} pages)")
    for name, value in line["fields"].items():
        typer.echo(f"  {name:16s} {value if value is not None else '-'}")
    for item in line["line_items"]:
        typer.echo(f"  item  {item['quantity']} x {item['unit_price']} = {item['amount']}  {item['description']}")
    for check in line["checks"]:
        mark = "ok " if check["passed"] else "FAIL"
        typer.echo(f"  [{mark}] {check['name']}: {check['detail']}")


@app.command("generate")
def generate_command(
    out: Path = typer.Option(..., "--out", file_okay=False, help="Folder for the files and labelled.jsonl."),
    layouts: str = typer.Option("tuning", "--layouts", help="tuning | held-out | all, or comma-separated seeds."),
    per_layout: int = typer.Option(5, "--per-layout", min=1),
    scanned_share: float = typer.Option(0.0, "--scanned-share", min=0.0, max=1.0),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Write synthetic invoices and claim forms with their true fields (labelled JSONL)."""
    documents = dataset(_layouts(layouts), per_layout, scanned_share=scanned_share, seed=seed)
    typer.echo(str(write_labelled(documents, out)))


def _layouts(spec: str) -> list[int]:
    named = {"tuning": TUNING_LAYOUTS, "held-out": sorted(HELD_OUT_LAYOUTS), "all": list(range(LAYOUTS))}
    return named.get(spec) or [int(n) for n in spec.split(",")]


@app.command("train")
def train_command(
    data: list[Path] = typer.Option(..., "--data", exists=True, dir_okay=False, help="Labelled JSONL (repeatable)."),
    synthetic_per_layout: int = typer.Option(
        4, "--synthetic-per-layout", min=0, help="Tuning-layout documents mixed in, so corrections add to the base."
    ),
    correction_weight: float = typer.Option(
        CORRECTION_WEIGHT, "--correction-weight", min=0.0, help="Weight of a --data document against a synthetic one."
    ),
    name: str = typer.Option(EXTRACTOR_MODEL, "--name", help="Registry name; each training adds its next version."),
    promote: str | None = typer.Option(None, "--promote", help="Point this alias (production|canary|shadow) at it."),
    out: Path | None = typer.Option(None, "--out", file_okay=False, help="Write the weights here; no registry."),
    as_json: bool = _JSON,
) -> None:
    """Train on labelled documents (e.g. reviewers' corrections) and register the result as a new version."""
    labelled: list[Labelled] = [d for path in data for d in load_labelled(path)]
    base = dataset(TUNING_LAYOUTS, synthetic_per_layout, seed=1) if synthetic_per_layout else []
    documents = labelled + [from_generated(g, f"synthetic-{n}") for n, g in enumerate(base)]
    weights = [correction_weight] * len(labelled) + [1.0] * len(base)
    started = time.monotonic()
    extractor = train(documents, document_weights=weights)
    scores = evaluate(labelled, extractor)
    metrics = {
        "documents": len(documents),
        "train_seconds": round(time.monotonic() - started, 1),
        "training_data": scores.summary(),
        "training_fields": scores.field_accuracy(),
    }
    if out is not None:
        extractor.save(out)
        result: dict[str, Any] = {"folder": str(out), "metrics": metrics}
    else:
        digest = data_sha256(documents)
        row = run_on_database(
            lambda pool: publish_extractor(
                ModelRegistry(pool), artifact_store(), extractor, name=name, data_sha256=digest, metrics=metrics,
                promote_to=promote,
            )
        )  # fmt: skip
        result = {"name": row.name, "version": row.version, "metrics": metrics}
    typer.echo(json.dumps(result) if as_json else json.dumps(result, indent=2))


@app.command("eval")
def eval_command(
    data: Path | None = typer.Option(
        None, "--data", exists=True, dir_okay=False, help="Labelled JSONL; default: the held-out synthetic layouts."
    ),
    model: str | None = _MODEL,
    per_layout: int = typer.Option(10, "--per-layout", min=1, help="Without --data: documents per held-out layout."),
    scanned: bool = typer.Option(False, "--scanned", help="Without --data: scanned variants instead of born-digital."),
    ocr_engine: str | None = typer.Option(None, "--ocr", help="tesseract | rapidocr (default: the setting)."),
    as_json: bool = _JSON,
) -> None:
    """Accuracy per field (exact after normalisation), line items and document type."""
    if data is not None:
        documents = load_labelled(data)
    else:
        generated = dataset(sorted(HELD_OUT_LAYOUTS), per_layout, scanned_share=1.0 if scanned else 0.0, seed=2)
        documents = [from_generated(g, f"held-out-{g.layout}-{n}") for n, g in enumerate(generated)]
    settings = ExtractionSettings.model_validate({"ocr_engine": ocr_engine} if ocr_engine else {})
    extractor = _extractor(model)
    started = time.monotonic()
    scores = evaluate(documents, extractor, settings)
    report: dict[str, Any] = {
        "extractor": extractor.version,
        "seconds": round(time.monotonic() - started, 1),
        **scores.summary(),
        "per_field": scores.field_accuracy(),
        "per_type": {
            kind: round(
                sum(scores.field_correct[f] for f in fields_of(kind))
                / max(sum(scores.field_total[f] for f in fields_of(kind)), 1),
                4,
            )
            for kind in ("invoice", "claim")
        },
    }
    if as_json:
        typer.echo(json.dumps(report))
        return
    for key, value in report.items():
        if key != "per_field":
            typer.echo(f"{key:12s} {value}")
    for name, accuracy in report["per_field"].items():
        typer.echo(f"  {name:16s} {accuracy:.4f}")
    for error in scores.errors[:20]:
        typer.echo(f"  wrong: {error}")


@app.command()
def seal(tenant: str | None = typer.Option(None, "--tenant", help="Only this tenant's documents.")) -> None:
    """Encrypt documents stored in clear before encryption, in place (idempotent, while services run)."""
    sealed, corrupted = run_on_database(lambda pool: sealed_store(pool).seal_plaintext(tenant))
    typer.echo(f"sealed {sealed} document(s)")
    for key in corrupted:
        typer.echo(f"left {key} as it is: its bytes no longer match its name", err=True)
