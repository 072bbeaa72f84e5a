"""Tick boxes on claim forms: which loss type is marked, read from ink beside each option."""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image

from aios.documents.candidates import DocumentContext
from aios.documents.models import ExtractedField


def ticked_loss_type(context: DocumentContext, page_image: Callable[..., Image.Image]) -> ExtractedField | None:
    return None
