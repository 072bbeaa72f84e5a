"""Markdown, text and HTML files become a title and blocks; ids come from paths; bad files are errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from aios.retrieval.documents import content_hash, discover, read_document
from aios.retrieval.errors import DocumentError


def test_markdown_title_blocks_and_markup_removed(tmp_path: Path) -> None:
    path = tmp_path / "lost.md"
    path.write_text("# Lost cards\n\nLock the *card* in the [app](https://x).\n\n## Next\n\n- Report it.\n- Wait.\n")
    document = read_document(path, "lost")
    assert document.title == "Lost cards"
    assert document.blocks == ("Lock the card in the app.", "Next", "Report it.", "Wait.")
    assert document.content_sha256 == content_hash(path.read_bytes())


def test_html_skips_scripts_and_takes_the_title_element(tmp_path: Path) -> None:
    path = tmp_path / "fees.html"
    path.write_text(
        "<html><head><title>Fees abroad</title><script>var x = 1;</script></head>"
        "<body><nav>Home | Help</nav><h1>Fees</h1><p>A fee of 3% applies.</p>"
        "<ul><li>ATM&nbsp;fee</li></ul></body></html>"
    )
    document = read_document(path, "fees")
    assert document.title == "Fees abroad"
    assert document.blocks == ("Fees", "A fee of 3% applies.", "ATM fee")  # &nbsp; is whitespace too


def test_plain_text_paragraphs(tmp_path: Path) -> None:
    path = tmp_path / "pin.txt"
    path.write_text("Changing your PIN\n\nUse the app.\nIt works at once.\n")
    document = read_document(path, "pin")
    assert document.title == "Changing your PIN"
    assert document.blocks == ("Changing your PIN", "Use the app. It works at once.")


def test_ids_are_relative_paths_without_suffix(tmp_path: Path) -> None:
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "lost.md").write_text("# Lost")
    (tmp_path / "pin.txt").write_text("PIN")
    (tmp_path / "notes.jsonl").write_text("{}")
    found = [(path.name, document_id) for path, document_id in discover([tmp_path])]
    assert found == [("lost.md", "cards/lost"), ("pin.txt", "pin")]
    assert [d for _, d in discover([tmp_path / "cards" / "lost.md"])] == ["lost"]


def test_unsupported_missing_empty_and_undecodable_files_are_errors(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("a,b")
    with pytest.raises(DocumentError, match="unsupported type"):
        list(discover([tmp_path / "data.csv"]))
    with pytest.raises(DocumentError, match="no such file"):
        list(discover([tmp_path / "missing.md"]))
    (tmp_path / "empty.md").write_text("   \n")
    with pytest.raises(DocumentError, match="no text"):
        read_document(tmp_path / "empty.md", "empty")
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(DocumentError, match="UTF-8"):
        read_document(tmp_path / "binary.txt", "binary")
