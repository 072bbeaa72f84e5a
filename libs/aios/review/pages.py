"""Pictures of a document's pages for the review page, rendered here (pdfium for PDFs, Pillow for scans) and cached.

Field boxes are in PDF points from the page's top-left corner (`aios.documents.models.BBox`), so every page
comes with its size in points: the page outlines each field over the picture in those units. The cache is a
folder of files keyed by tenant, document SHA-256, page and scale; a document's bytes never change under its
hash, so an entry is never stale, and entries are written whole (a temporary file renamed) so that two
requests rendering the same page at once both read a complete file.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageSequence

from aios.documents.reading import IMAGE_DPI_DEFAULT
from aios.objects.store import object_key

PageSize = tuple[float, float]
"""(width, height) in PDF points."""


class PageNotFound(LookupError):
    """The document has no such page."""


@dataclass(frozen=True)
class Rendered:
    png: bytes
    sizes: list[PageSize]


def render(data: bytes, media_type: str, page: int, scale: float) -> Rendered:
    """Page `page` (1-based) as a PNG at `scale` pixels per point, and every page's size in points."""
    if media_type == "application/pdf":
        pdf = pdfium.PdfDocument(data)
        try:
            sizes = [(float(p.get_width()), float(p.get_height())) for p in pdf]
            _check_page(page, len(sizes))
            image = pdf[page - 1].render(scale=scale).to_pil()
        finally:
            pdf.close()
    else:
        frames = list(ImageSequence.Iterator(Image.open(io.BytesIO(data))))
        sizes = [(f.width * 72 / _dpi(f), f.height * 72 / _dpi(f)) for f in frames]
        _check_page(page, len(sizes))
        width, height = sizes[page - 1]
        image = frames[page - 1].convert("RGB").resize((round(width * scale), round(height * scale)))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return Rendered(out.getvalue(), sizes)


def _dpi(frame: Image.Image) -> float:
    """As the extractor reads it (`aios.documents.reading`), so that boxes and picture agree."""
    dpi = float(frame.info.get("dpi", (IMAGE_DPI_DEFAULT,))[0] or IMAGE_DPI_DEFAULT)
    return dpi if 50 <= dpi <= 1200 else IMAGE_DPI_DEFAULT


def _check_page(page: int, pages: int) -> None:
    if not 1 <= page <= pages:
        raise PageNotFound(f"the document has {pages} pages; there is no page {page}")


class PageCache:
    """Rendered pages and page sizes on disk. Blocking; async callers use `asyncio.to_thread`."""

    def __init__(self, folder: Path, scale: float) -> None:
        self.folder = folder
        self.scale = scale

    def _dir(self, tenant_id: str, sha256: str) -> Path:
        """Named as the object is (the key checks the tenant id and hash, so no path leaves the folder)."""
        return self.folder / object_key(tenant_id, sha256)

    def page(self, tenant_id: str, sha256: str, media_type: str, page: int, load: Callable[[], bytes]) -> bytes:
        """The PNG of `page`; `load` fetches the document's bytes when the cache has not got it."""
        path = self._dir(tenant_id, sha256) / f"page-{page}@{self.scale:g}.png"
        if path.exists():
            return path.read_bytes()
        rendered = render(load(), media_type, page, self.scale)
        self._write(path, rendered.png)
        self._write(self._dir(tenant_id, sha256) / "sizes.json", json.dumps(rendered.sizes).encode())
        return rendered.png

    def sizes(self, tenant_id: str, sha256: str, media_type: str, load: Callable[[], bytes]) -> list[PageSize]:
        """Every page's size in points (rendering page 1 on the way, which the page shows next)."""
        path = self._dir(tenant_id, sha256) / "sizes.json"
        if not path.exists():
            self.page(tenant_id, sha256, media_type, 1, load)
        return [(float(w), float(h)) for w, h in json.loads(path.read_text())]

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
