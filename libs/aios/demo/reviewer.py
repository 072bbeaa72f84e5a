"""The demo's reviewer: signs in to the review page over HTTP as a browser does and completes a share of the items.

It keeps the session cookie, reads each form's CSRF token from the page that carries the form (never
builds one), claims an item, and answers it with one of the four verdicts in turn: approve, relabel
(another label the page offers), reject (with a reason) and edit the draft. decide then resumes each
event, so `make demo` shows the pipeline continuing after a person decided.
"""

from __future__ import annotations

import html
import math
import re
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import httpx

from aios.errors import AiosError

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ITEM_LINK = re.compile(r'href="/items/([^"/]+)"')
LABEL_OPTION = re.compile(r'<option value="([^"]+)">')
DRAFT = re.compile(r'<textarea id="edited_draft" name="edited_draft">(.*?)</textarea>', re.DOTALL)

CHOICES = ("APPROVE", "RELABEL", "REJECT", "EDIT_APPROVE")
"""The verdicts the demo reviewer gives, in turn."""


class ReviewPageError(AiosError):
    """The review page answered what a browser would not expect (signed out, a refused form)."""


@dataclass(frozen=True)
class Completed:
    review_id: str
    verdict: str
    at: float
    """time.time() when the page accepted the verdict."""


class ReviewPage:
    """The review service's pages, through one cookie session."""

    def __init__(self, url: str, timeout_s: float = 15.0) -> None:
        self.http = httpx.Client(base_url=url, timeout=timeout_s)

    def close(self) -> None:
        self.http.close()

    def sign_in(self, tenant: str, username: str, password: str) -> None:
        form = self._page("/login")
        signed = self.http.post(
            "/login",
            data={"tenant": tenant, "username": username, "password": password, "csrf_token": _token(form)},
        )
        if signed.status_code != 303:
            raise ReviewPageError(f"sign-in refused: HTTP {signed.status_code}")

    def open_items(self) -> list[str]:
        """Review ids on the queue page, earliest deadline first."""
        return list(dict.fromkeys(ITEM_LINK.findall(self._page("/"))))

    def complete(self, review_id: str, verdict: str, reason: str, fields: Mapping[str, str] | None = None) -> Completed:
        """Claim the item, then answer it with `verdict`, filling in what that verdict's form asks for.

        `fields`: a document's values as the reviewer reads them on the page (the form's `field.<name>`).
        """
        self._post(f"/items/{review_id}/claim", {"csrf_token": _token(self._page(f"/items/{review_id}"))})
        page = self._page(f"/items/{review_id}")
        form = {"csrf_token": _token(page), "verdict": verdict, "reason": reason}
        form.update({f"field.{name}": value for name, value in (fields or {}).items()})
        if verdict == "RELABEL":
            labels = LABEL_OPTION.findall(page)
            form["corrected_label"] = labels[-1] if labels else "oos"
        elif verdict == "EDIT_APPROVE":
            draft = DRAFT.search(page)
            text = html.unescape(draft[1]).strip() if draft else ""
            form["edited_draft"] = f"{text}\n\n(checked by the demo reviewer)".strip()
        self._post(f"/items/{review_id}/complete", form)
        return Completed(review_id, verdict, time.time())

    def _page(self, path: str) -> str:
        response = self.http.get(path)
        if response.status_code != 200:  # a redirect to /login: signed out
            raise ReviewPageError(f"GET {path}: HTTP {response.status_code}")
        return response.text

    def _post(self, path: str, form: dict[str, str]) -> None:
        response = self.http.post(path, data=form)
        if response.status_code != 303:
            found = re.search(r'class="problem"[^>]*>([^<]*)<', response.text)
            raise ReviewPageError(f"POST {path}: HTTP {response.status_code} {found[1].strip() if found else ''}")


def review_share(page: ReviewPage, share: float, among: Collection[str]) -> list[Completed]:
    """Complete `share` of the open items `among` (at least one when any is open), the verdicts in turn.

    `among`: the review ids of this run's events, opened by id: the queue page shows the earliest
    deadlines first, at most a page of them, and may be full of what earlier runs left open.
    """
    items = sorted(among)
    chosen = items[: math.ceil(len(items) * share)] if items else []
    return [
        page.complete(review_id, CHOICES[n % len(CHOICES)], "the demo reviewer checked it")
        for n, review_id in enumerate(chosen)
    ]


def _token(page: str) -> str:
    found = CSRF.search(page)
    if found is None:
        raise ReviewPageError("the page carries no CSRF token (signed out?)")
    return found[1]
