"""OCR for scans and image-only pages: Tesseract and RapidOCR behind one interface, with orientation and deskew.

Both engines return words with pixel boxes; the caller turns pixels into page points. Which engine runs is a
setting (`AIOS_DOCUMENTS_OCR_ENGINE`); docs/documents.md has the measurement behind the default.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from PIL import Image, ImageOps


@dataclass(frozen=True)
class OcrWord:
    text: str
    box: tuple[float, float, float, float]
    """(x0, y0, x1, y1) in pixels of the image that was read."""
    confidence: float


class OcrEngine(Protocol):
    name: str

    def read(self, image: Image.Image) -> list[OcrWord]:
        """Words on a greyscale page image, in any order."""
        ...


class TesseractOcr:
    """Tesseract 5 (Debian `tesseract-ocr`, LSTM engine) through pytesseract's call of the binary."""

    name = "tesseract"

    def __init__(self, threads: int = 1) -> None:
        self._env = {"OMP_THREAD_LIMIT": str(threads)}

    def read(self, image: Image.Image) -> list[OcrWord]:
        import os

        import pytesseract

        os.environ.update(self._env)
        data = pytesseract.image_to_data(image, config="--oem 1 --psm 3", output_type=pytesseract.Output.DICT)
        words = []
        for text, left, top, width, height, conf in zip(
            data["text"], data["left"], data["top"], data["width"], data["height"], data["conf"], strict=True
        ):
            if text.strip() and float(conf) >= 0:
                words.append(OcrWord(text.strip(), (left, top, left + width, top + height), float(conf) / 100))
        return words

    def orientation(self, image: Image.Image) -> int:
        """Clockwise degrees (0, 90, 180, 270) the page must be turned by, from Tesseract's OSD; 0 if unsure."""
        import pytesseract

        try:
            osd = pytesseract.image_to_osd(image, config="--psm 0", output_type=pytesseract.Output.DICT)
        except pytesseract.TesseractError:
            return 0
        return int(osd.get("rotate", 0)) if float(osd.get("orientation_conf", 0)) > 2.0 else 0


class RapidOcr:
    """RapidOCR (PP-OCR detection and recognition as ONNX, weights inside its wheel) on onnxruntime's CPU path.

    It returns text lines; words are cut out of a line in proportion to their characters.
    """

    name = "rapidocr"

    def __init__(self, threads: int = 1) -> None:
        self._threads = threads

    @functools.cached_property
    def _engine(self) -> Any:
        from rapidocr_onnxruntime import RapidOCR

        return RapidOCR(intra_op_num_threads=self._threads, inter_op_num_threads=1)

    def read(self, image: Image.Image) -> list[OcrWord]:
        result, _ = self._engine(np.asarray(image.convert("RGB")))
        words: list[OcrWord] = []
        for points, text, score in result or []:
            xs = [p[0] for p in points]
            ys = [p[1] for p in points]
            x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
            words.extend(_split_line(str(text), (x0, y0, x1, y1), float(score)))
        return words


def _split_line(text: str, box: tuple[float, float, float, float], score: float) -> list[OcrWord]:
    x0, y0, x1, y1 = box
    per_char = (x1 - x0) / max(len(text), 1)
    words = []
    position = 0
    for part in text.split(" "):
        if part:
            start = x0 + position * per_char
            words.append(OcrWord(part, (start, y0, start + len(part) * per_char, y1), score))
        position += len(part) + 1
    return words


def engine_named(name: str, threads: int = 1) -> OcrEngine:
    engines: dict[str, type[TesseractOcr] | type[RapidOcr]] = {"tesseract": TesseractOcr, "rapidocr": RapidOcr}
    return engines[name](threads)


def skew_angle(image: Image.Image, limit: float = 4.0) -> float:
    """The small rotation (degrees, counter-clockwise) that makes text rows horizontal: the projection profile.

    Rows of text give the sharpest row-sum profile when level; searched coarse (1°) then fine (0.2°) on a
    600-px-wide thumbnail, so it costs a few dozen small rotations.
    """
    small = ImageOps.invert(image.convert("L"))
    small = small.resize((600, max(int(small.height * 600 / max(small.width, 1)), 1)))

    def sharpness(angle: float) -> float:
        rotated = np.asarray(small.rotate(angle, resample=Image.Resampling.NEAREST), dtype=np.float32)
        return float(np.square(np.diff(rotated.sum(axis=1))).sum())

    coarse = max(np.arange(-limit, limit + 0.5, 1.0), key=lambda a: sharpness(float(a)))
    fine = max(np.arange(coarse - 0.8, coarse + 0.81, 0.2), key=lambda a: sharpness(float(a)))
    return round(float(fine), 2)


def straighten(image: Image.Image, engine: OcrEngine) -> Image.Image:
    """Turn a page upright (Tesseract OSD, whichever engine reads it) and remove a small skew."""
    grey = image.convert("L")
    turn = TesseractOcr().orientation(grey) if _looks_sideways_or_inverted(grey) else 0
    if turn:
        grey = grey.rotate(-turn, expand=True, fillcolor=255)
    angle = skew_angle(grey)
    if abs(angle) >= 0.2:
        grey = grey.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255)
    return grey


def _looks_sideways_or_inverted(image: Image.Image) -> bool:
    """A cheap test before OSD: a portrait page wider than tall, or more ink in the bottom half than the top.

    Invoices and forms carry their header (name, title, numbers) at the top, so an upright page has its ink
    weighted upwards; OSD (about half a second) runs only when that does not hold.
    """
    if image.width > image.height * 1.05:
        return True
    ink = 255 - np.asarray(image.resize((100, 140)), dtype=np.float32)
    return bool(ink[70:].sum() > 1.4 * ink[:70].sum())
