"""`aios documents extract FILE... --json`: one JSON line per file, in order, without the stack."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from aios.cli.main import app
from aios.documents.synthetic import HELD_OUT_LAYOUTS, generate

INVOICE_LAYOUT = min(n for n in HELD_OUT_LAYOUTS if n % 2 == 0)
CLAIM_LAYOUT = min(n for n in HELD_OUT_LAYOUTS if n % 2 == 1)


def test_extract_prints_one_line_per_file_in_order(tmp_path: Path) -> None:
    invoice, claim = generate(1, INVOICE_LAYOUT), generate(1, CLAIM_LAYOUT)
    (tmp_path / "b-invoice.pdf").write_bytes(invoice.data)
    (tmp_path / "a-claim.pdf").write_bytes(claim.data)
    (tmp_path / "broken.pdf").write_bytes(b"not a pdf at all")
    files = [tmp_path / "b-invoice.pdf", tmp_path / "broken.pdf", tmp_path / "a-claim.pdf"]

    result = CliRunner().invoke(app, ["documents", "extract", *map(str, files), "--json"])

    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["file"] for line in lines] == [str(f) for f in files]
    first, broken, last = lines
    assert first["type"] == "invoice" and first["fields"] == invoice.fields
    assert {"file", "type", "fields", "checks", "confidence"} <= set(first)
    assert all(check["passed"] for check in first["checks"])
    assert broken["rejected"] == "media_type" and "PDF" in broken["reason"]
    assert last["type"] == "claim" and last["fields"] == claim.fields
    assert result.exit_code == 1  # a file was rejected


def test_extract_with_a_declared_type_and_the_rules_alone(tmp_path: Path) -> None:
    invoice = generate(2, INVOICE_LAYOUT)
    path = tmp_path / "invoice.pdf"
    path.write_bytes(invoice.data)

    result = CliRunner().invoke(
        app, ["documents", "extract", str(path), "--type", "invoice", "--model", "rules", "--json"]
    )

    assert result.exit_code == 0, result.output
    line = json.loads(result.output)
    assert line["type"] == "invoice" and line["extractor_version"] == "rules-1"
    assert line["fields"]["total"] == invoice.fields["total"]


def test_extract_refuses_an_unknown_type(tmp_path: Path) -> None:
    path = tmp_path / "x.pdf"
    path.write_bytes(generate(1, INVOICE_LAYOUT).data)
    result = CliRunner().invoke(app, ["documents", "extract", str(path), "--type", "receipt"])
    assert result.exit_code == 2
