"""Traffic for the pipeline suites: CLINC150 events of every kind sent through the SDK at a steady rate,
and a reviewer who completes every review through the review service's pages.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from aios.client import AiosClient, RetryPolicy
from aios.client.errors import SubmitFailed, SubmitRejected
from aios.paths import project_root
from tests.support.pipeline import REVIEWER_PASSWORD, Pipeline, Tenant

PATIENT = RetryPolicy(max_attempts=60, base_delay_s=0.2, max_delay_s=2.0)
"""Rides out a restarting ingest (seconds): every attempt of a submit carries the same idempotency key."""

KINDS = ("auto", "oos", "pii", "amount")


@dataclass(frozen=True)
class EventSpec:
    tenant: str
    text: str
    attributes: dict[str, str]
    kind: str
    """auto (in scope), oos (out of scope), pii (an e-mail address in the text), amount (above 1000)."""


def clinc_events(count: int, tenant: str, labels: set[str], seed: int = 0) -> list[EventSpec]:
    """`count` events from CLINC150's validation and test texts of `labels` and out-of-scope texts.

    About 60 % routine, 15 % out of scope, 12 % with personal data, 13 % with an amount above 1000.
    """
    data = json.loads((project_root() / "data" / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    in_scope = [text for text, label in data["val"] + data["test"] if label in labels]
    out_of_scope = [text for text, _ in data["oos_val"] + data["oos_test"]]
    rng = random.Random(seed)
    events = []
    for n in range(count):
        draw = rng.random()
        attributes = {"customer": f"C-{n:05d}"}
        if draw < 0.15:
            events.append(EventSpec(tenant, rng.choice(out_of_scope), attributes, "oos"))
        elif draw < 0.27:
            text = f"{rng.choice(in_scope)} You can write to me at jane.doe{n}@example.com"
            events.append(EventSpec(tenant, text, attributes, "pii"))
        elif draw < 0.40:
            attributes["amount"] = f"{rng.randint(1001, 50_000)}.00"
            events.append(EventSpec(tenant, rng.choice(in_scope), attributes, "amount"))
        else:
            attributes["amount"] = f"{rng.randint(1, 999)}.{rng.randint(0, 99):02d}"
            events.append(EventSpec(tenant, rng.choice(in_scope), attributes, "auto"))
    return events


@dataclass(frozen=True)
class Submitted:
    event_id: str
    spec: EventSpec
    at: float
    """time.time() of the 202."""


class Load:
    """Submits events through the SDK (`AiosClient`) from a few threads, event n due at start + n / rate."""

    def __init__(
        self,
        pipeline: Pipeline,
        specs: list[EventSpec],
        rate_per_s: float,
        threads: int = 6,
        retry: RetryPolicy = PATIENT,
    ) -> None:
        self.pipeline = pipeline
        self.specs = specs
        self.rate_per_s = rate_per_s
        self.retry = retry
        self.accepted: list[Submitted] = []
        self.failed: list[tuple[EventSpec, str]] = []
        """Submits the SDK gave up on (never a 202): not accepted, so not lost, but reported."""
        self._next = 0
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._work, name=f"load-{n}", daemon=True) for n in range(threads)]
        self._started = 0.0

    def start(self) -> Load:
        self._started = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def join(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        assert not any(t.is_alive() for t in self._threads), f"{self.done} of {len(self.specs)} submitted"

    @property
    def done(self) -> int:
        return len(self.accepted) + len(self.failed)

    def _take(self) -> int | None:
        with self._lock:
            if self._next >= len(self.specs):
                return None
            self._next += 1
            return self._next - 1

    def _work(self) -> None:
        clients = {
            name: AiosClient(self.pipeline.url("ingest"), tenant.api_key, retry=self.retry, timeout_s=15)
            for name, tenant in self.pipeline.tenants.items()
        }
        try:
            while (index := self._take()) is not None:
                spec = self.specs[index]
                time.sleep(max(0.0, self._started + index / self.rate_per_s - time.monotonic()))
                try:
                    event_id = clients[spec.tenant].submit("support.ticket", spec.text, spec.attributes)
                except (SubmitFailed, SubmitRejected) as exc:
                    with self._lock:
                        self.failed.append((spec, str(exc)))
                    continue
                with self._lock:
                    self.accepted.append(Submitted(event_id, spec, time.time()))
        finally:
            for client in clients.values():
                client.close()


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Reviewer:
    """A tenant's reviewer completing every review requested, through the review service's pages.

    It signs in, then claims and completes each item it finds on the review-requested topic with
    the verdict `verdict(request)` gives. While the service is down or has not stored an item yet
    it tries again later; a claim refused because the item is already completed means an earlier
    attempt's answer was lost.
    """

    def __init__(self, pipeline: Pipeline, tenant: Tenant, verdict: Callable[[dict[str, Any]], str]) -> None:
        self.pipeline = pipeline
        self.tenant = tenant
        self.verdict = verdict
        self.completed: dict[str, tuple[str, str]] = {}
        """review id → (event id, verdict)."""
        self.answers: dict[str, list[str]] = {}
        """review id → what the service answered each claim and completion, for diagnosis."""
        self._http: httpx.Client | None = None
        self._csrf = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"reviewer-{tenant.name}", daemon=True)

    def start(self) -> Reviewer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            requests = [
                r
                for r in self.pipeline.tail.values("review_requested")
                if r["tenant_id"] == self.tenant.tenant_id and r["review_id"] not in self.completed
            ]
            for request in {r["review_id"]: r for r in requests}.values():
                if self._stop.is_set():
                    return
                try:
                    self._complete(request)
                except httpx.HTTPError:
                    self._http = None  # the service is down or restarting: sign in again later
                    time.sleep(0.5)
                    break
            self._stop.wait(0.3)

    def _client(self) -> httpx.Client:
        if self._http is None:
            # An answer of 5xx anywhere here (PostgreSQL restarting...) raises HTTPError: signed in again later.
            http = httpx.Client(base_url=self.pipeline.url("review"), timeout=15)
            page = http.get("/login")
            page.raise_for_status()
            token = CSRF.search(page.text)
            assert token is not None, page.text
            signed = http.post(
                "/login",
                data={
                    "tenant": self.tenant.name,
                    "username": "reviewer",
                    "password": REVIEWER_PASSWORD,
                    "csrf_token": token[1],
                },
            )
            if signed.status_code != 303:
                raise httpx.HTTPError(f"sign-in: HTTP {signed.status_code}")
            queue = http.get("/")
            queue.raise_for_status()
            found = CSRF.search(queue.text)
            assert found is not None, queue.text
            self._http, self._csrf = http, found[1]
        return self._http

    def _complete(self, request: dict[str, Any]) -> None:
        http = self._client()
        review_id = request["review_id"]
        answers = self.answers.setdefault(review_id, [])
        claimed = http.post(f"/items/{review_id}/claim", data={"csrf_token": self._csrf})
        answers.append(f"{time.strftime('%H:%M:%S')} claim {claimed.status_code} {_problem(claimed)}")
        if claimed.status_code == 404:
            return  # not stored yet (the intake lags or is restarting)
        if claimed.status_code == 409:
            if "already completed" in _problem(claimed):
                # By an earlier attempt whose answer was lost (the service died answering).
                self.completed[review_id] = (request["event_id"], "unknown")
            return  # otherwise not claimable yet: tried again next round
        if claimed.status_code >= 500:
            raise httpx.HTTPError(f"claim: HTTP {claimed.status_code}")
        assert claimed.status_code == 303, claimed.text
        verdict = self.verdict(request)
        form = {"csrf_token": self._csrf, "verdict": verdict, "reason": "checked by the chaos reviewer"}
        done = http.post(f"/items/{review_id}/complete", data=form)
        answers.append(f"{time.strftime('%H:%M:%S')} complete {done.status_code} {_problem(done)}")
        if done.status_code >= 500:
            raise httpx.HTTPError(f"complete: HTTP {done.status_code}")
        if done.status_code == 303:
            self.completed[review_id] = (request["event_id"], verdict)
        # Anything else (a claim that lapsed...): the next round claims it again or finds it completed.


def _problem(response: httpx.Response) -> str:
    """The reason a review page gives for a refusal (its `<p class="problem">`), else nothing."""
    found = re.search(r'class="problem"[^>]*>([^<]*)<', response.text) if response.status_code >= 400 else None
    return found[1].strip() if found else ""


def approve_large_amounts(request: dict[str, Any]) -> str:
    """Approve what was held for its amount (its actions then run); reject the rest."""
    return "APPROVE" if request["policy"]["rule"] == "large-amount" else "REJECT"
