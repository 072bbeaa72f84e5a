"""What the edge tells of an uploaded file from its content: each bad kind refused with its own status and reason."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from aios.ingest.document_files import UnreadableDocument, inspect_file, sniff_media_type
from aios.ingest.errors import PayloadTooLarge, UnsupportedMediaType
from tests.support.documents import blank_png, encrypted_pdf, invoice_pdf, pages_pdf, scan_of, zero_page_pdf

LIMITS = {"max_pages": 50, "max_pixels": 80_000_000}


def _image(width: int, height: int, image_format: str) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), 255).save(out, format=image_format)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "media_type", "pages"),
    [
        (invoice_pdf(), "application/pdf", 1),
        (pages_pdf(3), "application/pdf", 3),
        (blank_png(), "image/png", 1),
        (_image(400, 300, "JPEG"), "image/jpeg", 1),
        (_image(400, 300, "TIFF"), "image/tiff", 1),
    ],
)
def test_accepted_kinds_give_their_type_and_pages(data: bytes, media_type: str, pages: int) -> None:
    facts = inspect_file(data, None, **LIMITS)
    assert (facts.media_type, facts.pages) == (media_type, pages)


def test_a_multi_page_tiff_counts_its_frames() -> None:
    out = io.BytesIO()
    frames = [Image.new("L", (200, 200), 255) for _ in range(3)]
    frames[0].save(out, format="TIFF", save_all=True, append_images=frames[1:])
    assert inspect_file(out.getvalue(), "image/tiff", **LIMITS).pages == 3


def test_content_that_is_no_accepted_type_is_415() -> None:
    with pytest.raises(UnsupportedMediaType, match="none of"):
        inspect_file(b"<html>not a document</html>", None, **LIMITS)
    assert sniff_media_type(b"GIF89a") is None


def test_a_file_not_what_its_content_type_says_is_415() -> None:
    with pytest.raises(UnsupportedMediaType, match="declared application/pdf but its content is image/png"):
        inspect_file(scan_of(invoice_pdf()), "application/pdf", **LIMITS)


def test_an_encrypted_pdf_is_422() -> None:
    with pytest.raises(UnreadableDocument, match="encrypted"):
        inspect_file(encrypted_pdf(), "application/pdf", **LIMITS)


def test_a_corrupt_pdf_is_422() -> None:
    with pytest.raises(UnreadableDocument, match="corrupt"):
        inspect_file(invoice_pdf()[:300], "application/pdf", **LIMITS)


def test_a_pdf_without_pages_is_422() -> None:
    with pytest.raises(UnreadableDocument, match="no pages"):
        inspect_file(zero_page_pdf(), "application/pdf", **LIMITS)


def test_each_refusal_is_judged_on_its_own_file_not_on_the_last_one() -> None:
    """pdfium keeps its last error per thread: an encrypted file before must not make the next one "encrypted"."""
    for first, second, reason in (
        (encrypted_pdf(), zero_page_pdf(), "no pages"),
        (encrypted_pdf(), invoice_pdf()[:300], "corrupt"),
        (zero_page_pdf(), encrypted_pdf(), "encrypted"),
    ):
        with pytest.raises(UnreadableDocument):
            inspect_file(first, "application/pdf", **LIMITS)
        with pytest.raises(UnreadableDocument, match=reason):
            inspect_file(second, "application/pdf", **LIMITS)


def test_too_many_pages_is_413() -> None:
    with pytest.raises(PayloadTooLarge, match="51 pages; at most 50"):
        inspect_file(pages_pdf(51), "application/pdf", **LIMITS)


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = _image(12_000, 12_000, "PNG")  # 144 megapixels of white: a few hundred kilobytes compressed
    assert len(bomb) < 1_000_000
    with pytest.raises(UnreadableDocument, match="decompression bomb"):
        inspect_file(bomb, "image/png", **LIMITS)


def test_a_corrupt_image_is_422() -> None:
    png = blank_png()
    with pytest.raises(UnreadableDocument, match="corrupt"):
        inspect_file(png[:40] + b"\x00" * 40 + png[80:], "image/png", **LIMITS)
