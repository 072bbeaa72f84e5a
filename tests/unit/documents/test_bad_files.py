"""Every kind of file the extractor will not read is refused with its own kind and a reason."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from aios.documents.errors import DocumentRejected
from aios.documents.extraction import extract_document
from aios.documents.settings import ExtractionSettings


def pdf(pages: int = 1, *, size: tuple[float, float] = A4, password: str | None = None) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=size, encrypt=password)
    for n in range(pages):
        canvas.drawString(72, 720, f"Invoice No. 4711 page {n + 1} Total 12.00 EUR")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def png(width: int, height: int, colour: int = 255) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def rejected(data: bytes, media_type: str, **settings: object) -> DocumentRejected:
    with pytest.raises(DocumentRejected) as caught:
        extract_document(
            data, media_type=media_type, declared_type="auto", settings=ExtractionSettings.model_validate(settings)
        )
    assert caught.value.reason
    return caught.value


def test_content_that_is_not_what_its_media_type_says() -> None:
    assert rejected(png(10, 10), "application/pdf").kind == "media_type"
    assert rejected(pdf(), "image/png").kind == "media_type"
    assert rejected(b"hello, world", "application/pdf").kind == "media_type"
    assert rejected(pdf(), "application/zip").kind == "media_type"


def test_encrypted_pdf() -> None:
    error = rejected(pdf(password="secret"), "application/pdf")
    assert error.kind == "encrypted" and "password" in error.reason


def test_corrupt_pdf() -> None:
    data = pdf()
    assert rejected(data[: len(data) // 3], "application/pdf").kind == "corrupt"


def test_corrupt_image() -> None:
    assert rejected(png(50, 50)[:60], "image/png").kind == "corrupt"


def test_pdf_with_zero_pages() -> None:
    buffer = io.BytesIO()
    pdfium.PdfDocument.new().save(buffer)
    assert rejected(buffer.getvalue(), "application/pdf").kind == "no_pages"


def test_too_many_pages() -> None:
    error = rejected(pdf(pages=3), "application/pdf", max_pages=2)
    assert error.kind == "too_many_pages" and "3 pages" in error.reason


def test_decompression_bomb_image() -> None:
    assert rejected(png(1500, 1000), "image/png", max_page_pixels=1_000_000).kind == "decompression_bomb"


def test_decompression_bomb_page_size() -> None:
    assert rejected(pdf(size=(20000, 20000)), "application/pdf").kind == "decompression_bomb"


def test_a_scan_where_ocr_finds_nothing() -> None:
    error = rejected(png(800, 1000), "image/png")
    assert error.kind == "no_text" and "page 1" in error.reason
