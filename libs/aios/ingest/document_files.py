"""What the edge can tell of an uploaded file before storing it: its real type, its pages, whether it opens.

The type is read from the content (magic bytes), never trusted from the caller; a PDF is opened
with pdfium to count its pages and to refuse an encrypted or corrupt one; an image's header gives
its size, so a decompression bomb is refused before any pixel is decoded. What only reading the
pages can tell (no text anywhere, OCR finds nothing) is the extract service's to find.
"""

from __future__ import annotations

import io
import re
import threading
import warnings
from dataclasses import dataclass

import pypdfium2
import pypdfium2.raw as pdfium_c
from PIL import Image, UnidentifiedImageError

from aios.ingest.errors import IngestRefused, PayloadTooLarge, UnsupportedMediaType

MEDIA_TYPES = ("application/pdf", "image/png", "image/jpeg", "image/tiff")

_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
_ENCRYPT = re.compile(rb"/Encrypt\s")
_EMPTY_PAGE_TREE = re.compile(rb"/Type\s*/Pages\b[^>]*/Count\s+0\b")
_PDFIUM = threading.Lock()
"""pdfium is not thread-safe: one document open at a time per process."""


class UnreadableDocument(IngestRefused):
    """The file is of an accepted type but cannot be read: encrypted, corrupt, no pages, too many pixels."""

    status = 422


@dataclass(frozen=True)
class FileFacts:
    media_type: str
    pages: int


def sniff_media_type(data: bytes) -> str | None:
    """The accepted media type the content is, or None. A PDF may start after a few bytes of junk (as readers allow)."""
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    return "application/pdf" if b"%PDF-" in data[:1024] else None


def inspect_file(data: bytes, declared: str | None, *, max_pages: int, max_pixels: int) -> FileFacts:
    """The file's media type and page count; refuses (415, 413, 422) what the extractor must never get."""
    media_type = sniff_media_type(data)
    if media_type is None:
        raise UnsupportedMediaType(f"the file is none of {', '.join(MEDIA_TYPES)} (judged by its content)")
    if declared not in (None, "", "application/octet-stream") and declared != media_type:
        raise UnsupportedMediaType(f"the file was declared {declared} but its content is {media_type}")
    pages = _pdf_pages(data) if media_type == "application/pdf" else _image_pages(data, max_pixels)
    if pages == 0:
        raise UnreadableDocument("the document has no pages")
    if pages > max_pages:
        raise PayloadTooLarge(f"the document has {pages} pages; at most {max_pages} are accepted")
    return FileFacts(media_type, pages)


def _pdf_pages(data: bytes) -> int:
    with _PDFIUM:
        try:
            pdf = pypdfium2.PdfDocument(data)
        except pypdfium2.PdfiumError as exc:
            # Judged from the bytes: pdfium's last error is per thread and not reset by every failure.
            if _ENCRYPT.search(data):
                raise UnreadableDocument("the PDF is encrypted; send it without a password") from None
            if _EMPTY_PAGE_TREE.search(data):  # pdfium refuses to open a document without pages
                raise UnreadableDocument("the document has no pages") from None
            raise UnreadableDocument(f"the PDF is corrupt: {exc}") from None
        try:
            if pdfium_c.FPDF_GetSecurityHandlerRevision(pdf.raw) != -1:
                raise UnreadableDocument("the PDF is encrypted; send it without a password")
            return len(pdf)
        finally:
            pdf.close()


def _image_pages(data: bytes, max_pixels: int) -> int:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise UnreadableDocument(
                        f"the image is {width}x{height} pixels, more than {max_pixels} (a decompression bomb?)"
                    )
                frames = int(getattr(image, "n_frames", 1))
                image.verify()
                return frames
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UnreadableDocument(f"the image is too large to decode: {exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnreadableDocument(f"the image is corrupt: {exc}") from None
