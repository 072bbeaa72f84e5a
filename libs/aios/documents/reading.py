"""From bytes to pages of positioned words: the PDF text layer through pdfium, OCR for images and image-only pages.

Every way a file can be unreadable ends here as `DocumentRejected` with a reason: content that is not what its
media type says, an encrypted or corrupt PDF, no pages, too many, a page too large to decode (a decompression
bomb), a scanned page where OCR finds nothing.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageSequence, UnidentifiedImageError

from aios.documents.errors import DocumentRejected
from aios.documents.layout import Page, Word
from aios.documents.ocr import OcrEngine, straighten
from aios.documents.settings import ExtractionSettings

MEDIA_TYPES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
}
IMAGE_DPI_DEFAULT = 200.0
"""Resolution assumed for an image that does not say its own (a 200-dpi A4 scan is 1654 px wide)."""


@dataclass
class ReadDocument:
    pages: list[Page]
    ocr_engine: str | None = None
    ocr_ms: float = 0.0
    images: dict[int, Image.Image] = field(default_factory=dict)
    """Page images already in hand (scans), by page number; born-digital pages are rendered on demand."""
    pdf: pdfium.PdfDocument | None = None

    def page_image(self, number: int, dpi: float = 100.0) -> Image.Image:
        """A greyscale picture of a page (tick boxes are read from ink, not text)."""
        if number in self.images:
            return self.images[number]
        assert self.pdf is not None
        return self.pdf[number - 1].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")

    def close(self) -> None:
        if self.pdf is not None:
            self.pdf.close()


def sniff(data: bytes) -> str | None:
    """The media type the content itself says it is; PDFs may have junk before `%PDF-` (within 1 KiB)."""
    if b"%PDF-" in data[:1024]:
        return "application/pdf"
    for media_type, magics in MEDIA_TYPES.items():
        if any(data.startswith(magic) for magic in magics):
            return media_type
    return None


def read_document(data: bytes, media_type: str, settings: ExtractionSettings, ocr: OcrEngine) -> ReadDocument:
    declared = media_type.split(";")[0].strip().lower()
    if declared == "image/jpg":
        declared = "image/jpeg"
    if declared not in MEDIA_TYPES:
        raise DocumentRejected("media_type", f"media type {media_type!r} is not one of {', '.join(MEDIA_TYPES)}")
    actual = sniff(data)
    if actual != declared:
        said = f"looks like {actual}" if actual else "is none of PDF, PNG, JPEG or TIFF"
        raise DocumentRejected("media_type", f"the file was sent as {declared} but its content {said}")
    if declared == "application/pdf":
        return _read_pdf(data, settings, ocr)
    return _read_images(data, settings, ocr)


def _open_pdf(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise DocumentRejected("encrypted", "the PDF is encrypted (it needs a password to open)") from exc
        raise DocumentRejected("corrupt", f"the PDF cannot be read: {message}") from exc


def _read_pdf(data: bytes, settings: ExtractionSettings, ocr: OcrEngine) -> ReadDocument:
    pdf = _open_pdf(data)
    count = len(pdf)
    if count == 0:
        pdf.close()
        raise DocumentRejected("no_pages", "the PDF has no pages")
    if count > settings.max_pages:
        pdf.close()
        raise DocumentRejected(
            "too_many_pages", f"the PDF has {count} pages, more than the {settings.max_pages} allowed"
        )
    document = ReadDocument([], pdf=pdf)
    for index in range(count):
        page = pdf[index]
        width, height = page.get_size()
        if max(width, height) > settings.max_page_points:
            raise DocumentRejected("decompression_bomb", f"page {index + 1} is {width:.0f}x{height:.0f} points")
        words = list(_text_layer_words(page, index + 1, height))
        if sum(len(w.text) for w in words) >= settings.min_text_chars:
            document.pages.append(Page(index + 1, width, height, words))
            continue
        scale = settings.ocr_dpi / 72
        if width * height * scale * scale > settings.max_page_pixels:
            raise DocumentRejected("decompression_bomb", f"page {index + 1} would render to more pixels than allowed")
        image = page.render(scale=scale, grayscale=True).to_pil().convert("L")
        document.pages.append(_ocr_page(document, image, index + 1, settings.ocr_dpi, settings, ocr))
    return document


def _text_layer_words(page: pdfium.PdfPage, number: int, page_height: float) -> Iterator[Word]:
    """Words from pdfium's characters: split at spaces, line breaks and jumps; boxes flipped to top-left origin."""
    textpage = page.get_textpage()
    raw = textpage.raw
    chars: list[tuple[str, float, float, float, float]] = []
    for i in range(textpage.count_chars()):
        char = chr(pdfium_c.FPDFText_GetUnicode(raw, i))
        if char.isspace() or char in "\x00\ufffe\x02":
            yield from _word(chars, number, page_height)
            chars = []
            continue
        left, bottom, right, top = textpage.get_charbox(i, loose=True)
        if chars and (left < chars[-1][1] - 1 or abs(top - chars[-1][4]) > (top - bottom) * 0.5):
            yield from _word(chars, number, page_height)
            chars = []
        chars.append((char, left, bottom, right, top))
    yield from _word(chars, number, page_height)
    textpage.close()


def _word(chars: list[tuple[str, float, float, float, float]], number: int, page_height: float) -> Iterator[Word]:
    if chars:
        yield Word(
            "".join(c[0] for c in chars),
            min(c[1] for c in chars),
            page_height - max(c[4] for c in chars),
            max(c[3] for c in chars),
            page_height - min(c[2] for c in chars),
            number,
        )


def _read_images(data: bytes, settings: ExtractionSettings, ocr: OcrEngine) -> ReadDocument:
    Image.MAX_IMAGE_PIXELS = settings.max_page_pixels
    document = ReadDocument([])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            count = getattr(image, "n_frames", 1)
            if count > settings.max_pages:
                raise DocumentRejected("too_many_pages", f"the image has {count} pages, more than {settings.max_pages}")
            for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
                if frame.width * frame.height > settings.max_page_pixels:
                    raise DocumentRejected("decompression_bomb", f"page {number} is {frame.width}x{frame.height} px")
                dpi = float(frame.info.get("dpi", (IMAGE_DPI_DEFAULT,))[0] or IMAGE_DPI_DEFAULT)
                dpi = dpi if 50 <= dpi <= 1200 else IMAGE_DPI_DEFAULT
                page_image = frame.convert("L")
                document.pages.append(_ocr_page(document, page_image, number, dpi, settings, ocr))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DocumentRejected("decompression_bomb", f"the image decodes to too many pixels: {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DocumentRejected("corrupt", f"the image cannot be decoded: {exc}") from exc
    if not document.pages:
        raise DocumentRejected("no_pages", "the image has no pages")
    return document


def _ocr_page(
    document: ReadDocument, image: Image.Image, number: int, dpi: float, settings: ExtractionSettings, ocr: OcrEngine
) -> Page:
    import time

    started = time.perf_counter()
    if settings.deskew:
        image = straighten(image, ocr)
    words = ocr.read(image)
    document.ocr_ms += (time.perf_counter() - started) * 1000
    document.ocr_engine = ocr.name
    document.images[number] = image
    if not words:
        raise DocumentRejected("no_text", f"OCR ({ocr.name}) found no text on page {number}")
    points = 72.0 / dpi
    return Page(
        number,
        image.width * points,
        image.height * points,
        [
            Word(w.text, w.box[0] * points, w.box[1] * points, w.box[2] * points, w.box[3] * points, number)
            for w in words
        ],
        ocr=True,
    )
