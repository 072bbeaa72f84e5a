"""The feedback CSV is exactly what `aios model train --text-col text --label-col label` reads back."""

from __future__ import annotations

from pathlib import Path

from aios.feedback.export import write_csv
from aios.inference.training import Example, load_examples


def test_round_trip_through_the_training_loader(tmp_path: Path) -> None:
    examples = [
        ("plain question", "balance"),
        ('quotes "inside", commas, and\na new line', "transfer"),
        ("ünïcödé €", "oos"),
    ]
    path = tmp_path / "feedback.csv"
    write_csv(examples, path)
    assert path.read_text(encoding="utf-8").splitlines()[0] == "text,label"
    assert load_examples(path, "text", "label") == [Example(text, label) for text, label in examples]
    assert not (tmp_path / "feedback.csv.partial").exists()


def test_no_examples_still_gives_a_header(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    write_csv([], path)
    assert path.read_bytes() == b"text,label\r\n"
