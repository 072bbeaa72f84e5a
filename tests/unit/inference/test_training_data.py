"""Reading labelled files with custom columns, the stratified split, batching helpers and macro-F1."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from aios.inference.encoder import length_sorted_batches
from aios.inference.errors import TrainingDataError
from aios.inference.training import Example, data_sha256, load_examples, macro_f1, stratified_split


def test_csv_with_custom_columns(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text('id,utterance,intent\n1,"hello, there",greet\n2,bye,leave\n', encoding="utf-8")
    examples = load_examples(path, "utterance", "intent")
    assert [(e.text, e.label) for e in examples] == [("hello, there", "greet"), ("bye", "leave")]


def test_jsonl_with_custom_columns_and_texts_only(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(json.dumps({"q": f"t{i}", "y": i % 2}) for i in range(3)) + "\n\n", encoding="utf-8")
    assert [(e.text, e.label) for e in load_examples(path, "q", "y")] == [("t0", "0"), ("t1", "1"), ("t2", "0")]
    assert [e.label for e in load_examples(path, "q", None)] == ["", "", ""]


def test_missing_column_and_unknown_format_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("text\nhello\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match="label"):
        load_examples(path, "text", "label")
    with pytest.raises(TrainingDataError, match="unsupported"):
        load_examples(tmp_path / "data.parquet")


def test_stratified_split_keeps_label_shares_and_is_deterministic() -> None:
    labels = ["a"] * 100 + ["b"] * 20 + ["c"] * 2 + ["d"]
    train, val = stratified_split(labels, 0.2, seed=1)
    assert sorted(train + val) == list(range(len(labels)))
    counts = Counter(labels[i] for i in val)
    assert counts == {"a": 20, "b": 4, "c": 1}
    assert stratified_split(labels, 0.2, seed=1) == (train, val)


def test_length_sorted_batches_cover_every_position_once() -> None:
    lengths = [3, 9, 1, 7, 5]
    batches = list(length_sorted_batches(lengths, 2))
    assert batches == [[1, 3], [4, 0], [2]]


def test_macro_f1_and_digest() -> None:
    assert macro_f1(["a", "a", "b"], ["a", "a", "b"]) == 1.0
    assert macro_f1(["a", "b"], ["b", "a"]) == 0.0
    assert data_sha256([Example("x", "y")]) != data_sha256([Example("x", "z")])
