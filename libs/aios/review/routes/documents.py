"""A document beside its review: the page pictures, and the document an item's page shows.

Both are found through the reviewer's tenant: the item, then the extraction of the item's event, then the
object (whose key the store derives from the tenant and hash), so another tenant's pages are never served.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from aios.objects.errors import ObjectStoreError
from aios.review.documents import DocumentView
from aios.review.errors import ItemNotFound, PagesUnavailable
from aios.review.pages import PageNotFound, PageSize
from aios.review.parts import ReviewParts
from aios.review.store import Item
from aios.review.web import Parts, SignedIn

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class ShownDocument:
    view: DocumentView
    page_sizes: list[PageSize]
    """Empty when the pages cannot be shown (the object store failed, or the document is gone)."""
    problem: str | None


async def document_of(parts: ReviewParts, item: Item) -> ShownDocument | None:
    """The document the item's event is, with its pages' sizes; None for an event that is no document."""
    if "document_sha256" not in (item.request.get("attributes") or {}):
        return None
    extraction = await parts.extractions.extraction(item.tenant_id, item.event_id)
    view = DocumentView.from_extraction(extraction) if extraction else None
    if view is None:
        return None
    try:
        sizes = await asyncio.to_thread(
            parts.pages.sizes, item.tenant_id, view.sha256, view.media_type, _loader(parts, item.tenant_id, view)
        )
    except (ObjectStoreError, PageNotFound) as exc:
        log.warning("review %s: cannot show the pages of event %s: %s", item.review_id, item.event_id, exc)
        return ShownDocument(view, [], f"the pages cannot be shown: {exc}")
    return ShownDocument(view, sizes, None)


def _loader(parts: ReviewParts, tenant_id: str, view: DocumentView) -> Callable[[], bytes]:
    """Called on the page cache's thread when it lacks the page: fetched and opened on the service's loop."""
    loop = asyncio.get_running_loop()
    return lambda: asyncio.run_coroutine_threadsafe(parts.documents.get(tenant_id, view.sha256), loop).result()


@router.get("/items/{review_id}/pages/{page}.png")
async def page_picture(parts: Parts, session: SignedIn, review_id: str, page: int) -> Response:
    if session is None:
        return RedirectResponse("/login", status_code=303)
    tenant_id = session.reviewer.tenant_id
    item = await parts.store.item(tenant_id, review_id)
    extraction = await parts.extractions.extraction(tenant_id, item.event_id)
    view = DocumentView.from_extraction(extraction) if extraction else None
    if view is None:
        raise ItemNotFound(f"review {review_id} shows no document")
    try:
        png = await asyncio.to_thread(
            parts.pages.page, tenant_id, view.sha256, view.media_type, page, _loader(parts, tenant_id, view)
        )
    except PageNotFound as exc:
        raise ItemNotFound(str(exc)) from exc
    except ObjectStoreError as exc:
        raise PagesUnavailable(f"page {page} cannot be read from the object store: {exc}") from exc
    # The picture of a document never changes under its hash; the reviewer's browser may keep it a while.
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
