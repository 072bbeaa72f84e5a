"""Driving the review page in a real headless Chromium: decide and review on private topics, a signed-in reviewer.

Debian's chromium is launched directly (`executable_path`), never a downloaded browser.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from aios.paths import project_root
from aios.settings import ConnectionSettings
from tests.support.decide import DecideProcess, DecideTopics, TopicIO
from tests.support.review import ReviewProcess, stopped_cleanly

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"
UPDATE_SCREENSHOTS = os.environ.get("AIOS_UPDATE_SCREENSHOTS") == "1"
"""Set to write the README's screenshots (docs/img/); otherwise they go to the test's temporary folder."""
DEMO_POLICY = (project_root() / "policies" / "demo.yaml").read_text().replace("tenant: demo", "tenant: {tenant}")


@dataclass
class Env:
    url: str
    dsn: str
    topics: DecideTopics
    io: TopicIO
    acme: str
    events: dict[str, dict[str, Any]]
    overdue_review_id: str


@contextmanager
def review_desk(
    connection: ConnectionSettings, topics: DecideTopics, dsn: str, log_dir: Path, **review_settings: str
) -> Iterator[ReviewProcess]:
    """Decide and review running on `topics` and `dsn`; both stopped cleanly (and decide's own topics deleted)."""
    decide = DecideProcess(connection, topics, dsn, log_dir)
    review = ReviewProcess(
        connection, dsn, topics.review_requested, topics.completed, topics.deadletter, log_dir, None, **review_settings
    )
    decide.start()
    review.start()
    try:
        yield review
    finally:
        assert stopped_cleanly(review.stop()), review.tail()
        assert decide.stop() == 0, decide.tail()
        decide.delete_internal_topics()


@contextmanager
def chromium() -> Iterator[Browser]:
    """Start it after the processes: Playwright's sync API runs an event loop in this thread, where
    `asyncio.run` then fails."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def sign_in(browser: Browser, env: Env, tenant: str, username: str) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(env.url + "/")
    assert page.url.endswith("/login")
    page.fill("#tenant", tenant)
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(env.url + "/")
    return context, page


def wait_for_queue(page: Page, env: Env, count: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while page.locator("#queue tbody tr").count() < count:
        assert time.monotonic() < deadline, page.content()
        time.sleep(0.5)
        page.goto(env.url + "/")


def review_id_of(page: Page, text: str) -> str:
    row = page.locator("#queue tbody tr", has_text=text)
    review_id = row.get_attribute("data-review-id")
    assert review_id
    return review_id


def decision_of(env: Env, event_id: str) -> dict[str, Any]:
    [decision] = {
        d["decision_id"]: d
        for d in env.io.read(env.topics.decisions, lambda values: any(v["event_id"] == event_id for v in values))
        if d["event_id"] == event_id
    }.values()
    return decision
