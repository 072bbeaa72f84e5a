"""Tick boxes on claim forms: which loss type is marked, read from the ink in the box beside each option.

Options are found by their words (any of the loss-type words, short, on one line); the box is the square just
left of the words. Ink, not text, decides: a cross, a tick or a filled square all darken the box, on a born-digital
page (rendered) and a scan alike. Fewer than three options on a page is no tick-box group.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
from PIL import Image

from aios.documents.candidates import DocumentContext
from aios.documents.layout import Segment
from aios.documents.models import ExtractedField
from aios.documents.normalise import normalise_loss_type

MIN_OPTIONS = 3


def ticked_loss_type(context: DocumentContext, page_image: Callable[[int], Image.Image]) -> ExtractedField | None:
    for page in context.pages:
        options = [
            (phrase, loss)
            for line in page.lines
            for segment in line.segments
            for phrase in _phrases(segment)
            if len(phrase.words) <= 4 and ":" not in phrase.text
            for loss in [normalise_loss_type(phrase.text)]
            if loss is not None
        ]
        if len({loss for _, loss in options}) < MIN_OPTIONS:
            continue
        image = page_image(page.number)
        scale = image.width / page.width
        pixels = 255 - np.asarray(image, dtype=np.float32)
        inks = [_box_ink(pixels, segment, scale) for segment, _ in options]
        order = np.argsort(inks)[::-1]
        best, second = inks[order[0]], inks[order[1]]
        if best <= 0:
            return None
        segment, loss = options[order[0]]
        confidence = float(min(1.0, (best - second) / best * 1.5))
        x0, y0, _, y1 = segment.bbox
        box_side = y1 - y0
        return ExtractedField(
            value=loss,
            confidence=round(confidence, 4),
            page=page.number,
            bbox=(round(x0 - 1.8 * box_side, 2), y0, segment.bbox[2], y1),
            text=segment.text,
        )
    return None


def _phrases(segment: Segment) -> list[Segment]:
    """A segment cut where words stand further apart than a space (a box between two options is about 1.5 em)."""
    phrases = [Segment([segment.words[0]])]
    for previous, word in itertools.pairwise(segment.words):
        if word.x0 - previous.x1 > 0.6 * word.height:
            phrases.append(Segment([word]))
        else:
            phrases[-1].words.append(word)
    return phrases


def _box_ink(pixels: np.ndarray, segment: Segment, scale: float) -> float:
    """Mean darkness of the square left of the option's words (without the words themselves)."""
    x0, y0, _, y1 = segment.bbox
    side = y1 - y0
    left = int((x0 - 1.7 * side) * scale)
    right = int((x0 - 0.15 * side) * scale)
    top = int((y0 - 0.25 * side) * scale)
    bottom = int((y1 + 0.25 * side) * scale)
    region = pixels[max(top, 0) : max(bottom, 0), max(left, 0) : max(right, 0)]
    return float(region.mean()) if region.size else 0.0
