"""Settings of the document extractor (env prefix `AIOS_DOCUMENTS_`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ExtractionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_DOCUMENTS_", extra="ignore", frozen=True)

    max_pages: int = Field(default=50, ge=1, description="A document with more pages is rejected (too_many_pages).")
    max_page_pixels: int = Field(
        default=60_000_000,
        ge=1_000_000,
        description="Largest image (or rendered page) in pixels; more is treated as a decompression bomb.",
    )
    max_page_points: float = Field(
        default=14_400.0, description="Largest PDF page side in points (200 inches, the PDF spec's own limit)."
    )
    ocr_engine: Literal["tesseract", "rapidocr"] = Field(
        default="tesseract",
        description="OCR for scans and image-only pages (see docs/documents.md for the measurement).",
    )
    ocr_dpi: int = Field(
        default=200, ge=72, le=600, description="Resolution image-only PDF pages are rendered at for OCR."
    )
    min_text_chars: int = Field(
        default=16, ge=0, description="A PDF page whose text layer has fewer characters than this is read by OCR."
    )
    deskew: bool = Field(default=True, description="Straighten scans (orientation by 90°, then small skew) before OCR.")
    ocr_threads: int = Field(default=1, ge=1, description="Threads the OCR engine may use for one page.")
    min_field_confidence: float = Field(
        default=0.35, ge=0.0, le=1.0, description="A field whose best candidate scores lower is reported as null."
    )
