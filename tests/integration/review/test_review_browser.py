"""Human review end to end, in a real headless Chromium driven by Playwright.

Real decide and review processes on private topics and a private database: events the demo
policy sends to review appear in the queue; reviewers sign in, claim, edit and approve, relabel
or reject; the final decisions come out of decide on `aios.decisions`. Debian's chromium is
launched directly (`executable_path`), never a downloaded browser.
"""

from __future__ import annotations

import asyncio
import csv
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from playwright.sync_api import Browser, Page

from aios.db.scratch import scratch_database
from aios.inference.training import load_examples
from aios.kafka.scratch import ScratchTopics
from aios.paths import project_root
from aios.policy.loading import policy_version
from aios.settings import ConnectionSettings
from tests.support.cli import aios
from tests.support.decide import DecideTopics, TopicIO, create_tenant_with_policy, enriched_value
from tests.support.review import add_reviewer
from tests.support.review_browser import (
    DEMO_POLICY,
    PASSWORD,
    UPDATE_SCREENSHOTS,
    Env,
    chromium,
    decision_of,
    review_desk,
    review_id_of,
    sign_in,
    wait_for_queue,
)


@pytest.fixture(scope="module")
def env(connection: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    log_dir = tmp_path_factory.mktemp("review")
    with (
        ScratchTopics(connection.kafka_bootstrap, connection.schema_registry_url) as scratch,
        scratch_database(connection.postgres_dsn.get_secret_value()) as dsn,
        ExitStack() as stack,
    ):
        topics = DecideTopics.make(scratch.make)
        acme = create_tenant_with_policy(dsn, "acme", DEMO_POLICY)
        create_tenant_with_policy(dsn, "globex", DEMO_POLICY)
        for tenant, user in (("acme", "alice"), ("acme", "carol"), ("globex", "bob")):
            add_reviewer(dsn, tenant, user, PASSWORD)
        review = stack.enter_context(review_desk(connection, topics, dsn, log_dir, gauges_interval_s="1"))
        io = TopicIO(connection, topics)
        events = {
            "fraud": enriched_value(
                acme,
                "Someone used my card in Lisbon last night, I did not make these purchases",
                "report_fraud",
                0.97,
                attributes={"customer": "C-1003"},
            ),
            "amount": enriched_value(
                acme,
                "Transfer 2500 to my savings account",
                "transfer",
                0.93,
                attributes={"customer": "C-1008", "amount": "2500"},
                draft="Transfers between your own accounts are free and arrive the same day.",
            ),
            "pii": enriched_value(
                acme,
                "Please pay my bill from account DE89 3704 0044 0532 0130 00",
                "pay_bill",
                0.90,
                attributes={"customer": "C-1007"},
                pii_found=["iban"],
                draft="You can schedule payments under Payments > Bills.",
            ),
            "unsure": enriched_value(
                acme, "thing with the stuff from before", "transactions", 0.42, attributes={"customer": "C-1006"}
            ),
            "oos": enriched_value(
                acme, "can you book me a table for two tonight", "oos", 0.31, oos=True, attributes={"customer": "C-1"}
            ),
        }
        io.produce(topics.enriched, list(events.values()))
        overdue = _overdue_request(acme, events["amount"])
        io.produce(topics.review_requested, [overdue])
        yield Env(review.url, dsn, topics, io, acme, events, overdue["review_id"])


def _overdue_request(tenant_id: str, like: dict[str, Any]) -> dict[str, Any]:
    """A review request whose SLA ran out 20 minutes ago (as if the queue had been neglected)."""
    event = enriched_value(tenant_id, "Why was my card declined at the airport?", "card_declined", 0.55)
    return {
        **{k: event[k] for k in ("event_id", "tenant_id", "occurred_at", "type", "text", "attributes")},
        "review_id": f"overdue-{event['event_id']}",
        "reason": "the model is unsure of the intent",
        "priority": 2,
        "sla_deadline": datetime.now(UTC) - timedelta(minutes=20),
        "classification": event["classification"],
        "passages": like["passages"],
        "draft": event["draft"],
        "proposed_actions": [],
        "policy": {"version": policy_version(DEMO_POLICY.replace("{tenant}", "acme")), "rule": "low-confidence"},
        "trace": event["trace"],
    }


@pytest.fixture(scope="module")
def browser(env: Env) -> Iterator[Browser]:
    with chromium() as started:
        yield started


def test_sign_in_queue_edit_and_approve_then_decision(browser: Browser, env: Env, tmp_path: Path) -> None:
    screenshots = project_root() / "docs" / "img" if UPDATE_SCREENSHOTS else tmp_path
    context, page = sign_in(browser, env, "acme", "alice")
    wait_for_queue(page, env, 6)
    rows = page.locator("#queue tbody tr")
    # Earliest deadline first: the overdue one, then the fraud report (15 min), then the 2 h items.
    assert "overdue" in rows.nth(0).inner_text() and "airport" in rows.nth(0).inner_text()
    assert "Lisbon" in rows.nth(1).inner_text() and "P1" in rows.nth(1).inner_text()
    assert "1 overdue" in page.locator("h1").inner_text()
    page.screenshot(path=str(screenshots / "review-queue.png"), full_page=True)

    review_id = review_id_of(page, "pay my bill")
    page.click(f"tr[data-review-id='{review_id}'] a")
    assert "DE89" in page.inner_text("#event-text")
    assert page.inner_text("#prediction") == "pay_bill" and page.inner_text("#confidence") == "0.90"
    assert page.inner_text("#rule") == "personal-data"
    assert "Payments > Bills" in page.inner_text("#draft")
    assert "webhook.post" in page.content() and "Checking your balance" in page.content()
    page.click("#claim")
    page.wait_for_selector("#edit-approve")
    page.screenshot(path=str(screenshots / "review-item.png"), full_page=True)

    second = context.new_page()  # the same reviewer, another tab on the same item
    second.goto(page.url)
    second.wait_for_selector("#approve")

    edited = "You can schedule the payment under Payments > Bills; we never ask for your IBAN by email."
    page.fill("#edited_draft", edited)
    page.click("#edit-approve")
    page.wait_for_url(f"{env.url}/?done={review_id}")
    assert "completed" in page.inner_text(".notice")
    assert page.locator(f"tr[data-review-id='{review_id}']").count() == 0

    decision = decision_of(env, env.events["pii"]["event_id"])
    assert (decision["outcome"], decision["reviewer"], decision["draft"]) == ("APPROVED", "alice", edited)
    assert decision["policy"]["rule"] == "personal-data"
    assert [(a["type"], a["params"].get("body")) for a in decision["actions"]] == [
        ("log.record", None),
        ("webhook.post", edited),
    ]

    # The second tab approves too: refused cleanly, nothing sent twice.
    response = _submit(second, "#approve")
    assert response == 409
    assert "already completed (EDIT_APPROVE by alice" in second.inner_text("#problem")
    completions = env.io.read(env.topics.completed, lambda values: len(values) >= 1)
    assert [c["review_id"] for c in completions].count(review_id) == 1
    context.close()


def test_relabel_and_reject_then_feedback_export(browser: Browser, env: Env, tmp_path: Path) -> None:
    context, page = sign_in(browser, env, "acme", "alice")
    wait_for_queue(page, env, 5)
    unsure = review_id_of(page, "thing with the stuff")
    page.goto(f"{env.url}/items/{unsure}")
    page.click("#claim")
    page.select_option("#corrected_label", "transfer")
    page.click("#relabel")
    page.wait_for_url(f"{env.url}/?done={unsure}")
    decision = decision_of(env, env.events["unsure"]["event_id"])
    # Decided again under the same policy with the reviewer's label: a routine transfer question.
    assert (decision["outcome"], decision["label"], decision["confidence"]) == ("APPROVED", "transfer", 1.0)
    assert decision["policy"]["rule"] == "routine-answer"
    assert [a["type"] for a in decision["actions"]] == ["log.record", "webhook.post"]

    oos = review_id_of(page, "table for two")
    page.goto(f"{env.url}/items/{oos}")
    page.click("#claim")
    page.fill("#reject_reason", "not a banking request")
    page.click("#reject")
    page.wait_for_url(f"{env.url}/?done={oos}")
    rejected = decision_of(env, env.events["oos"]["event_id"])
    assert (rejected["outcome"], rejected["reason"], rejected["actions"]) == ("REJECTED", "not a banking request", [])
    context.close()

    out = tmp_path / "acme.csv"
    exported = aios("feedback", "export", "--tenant", "acme", "--out", str(out), env={"AIOS_POSTGRES_DSN": env.dsn})
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(out.open()))
    assert {(r["text"], r["label"]) for r in rows} >= {
        ("thing with the stuff from before", "transfer"),
        ("Please pay my bill from account DE89 3704 0044 0532 0130 00", "pay_bill"),
    }
    assert all(r["text"] != "can you book me a table for two tonight" for r in rows)  # a rejection teaches no label
    examples = load_examples(out, "text", "label")  # what `aios model train --text-col text --label-col label` reads
    assert len(examples) == len(rows)


def test_claims_tenants_csrf_and_overdue(browser: Browser, env: Env) -> None:
    alice_context, alice = sign_in(browser, env, "acme", "alice")
    wait_for_queue(alice, env, 3)
    fraud = review_id_of(alice, "Lisbon")
    alice.goto(f"{env.url}/items/{fraud}")
    alice.click("#claim")
    alice.wait_for_selector("#reject")

    # A form without its CSRF token is refused, and nothing changes.
    alice.eval_on_selector_all("input[name=csrf_token]", "inputs => inputs.forEach(i => i.remove())")
    alice.fill("#reject_reason", "forged")
    assert _submit(alice, "#reject") == 403
    assert "security token" in alice.inner_text("#problem")
    alice.goto(f"{env.url}/items/{fraud}")
    assert alice.locator("#reject").count() == 1  # still pending, still claimed by alice

    # A colleague sees the claim and cannot complete the item.
    carol_context, carol = sign_in(browser, env, "acme", "carol")
    carol.goto(f"{env.url}/items/{fraud}")
    assert "alice is reviewing" in carol.inner_text("#claimed-by-other")
    token = carol.get_attribute("header input[name=csrf_token]", "value")
    refused = carol.request.post(
        f"{env.url}/items/{fraud}/complete", form={"verdict": "APPROVE", "csrf_token": token or ""}, max_redirects=0
    )
    assert refused.status == 409 and "alice is reviewing" in refused.text()

    # A stale claim expires: then the colleague may claim it.
    with ThreadPoolExecutor(1) as thread:  # not on Playwright's event loop
        thread.submit(asyncio.run, _expire_claim(env.dsn, fraud)).result()
    carol.goto(f"{env.url}/items/{fraud}")
    carol.click("#claim")
    carol.wait_for_selector("#approve")

    # Another tenant's reviewer: the item does not exist for them.
    bob_context, bob = sign_in(browser, env, "globex", "bob")
    response = bob.goto(f"{env.url}/items/{fraud}")
    assert response is not None and response.status == 404
    assert bob.locator("#queue").count() == 0 or "Lisbon" not in bob.content()

    # The sign-in form needs its token too; a wrong password is refused without saying which part was wrong.
    anonymous = browser.new_context()
    login = anonymous.new_page()
    login.goto(env.url + "/login")
    login.fill("#tenant", "acme")
    login.fill("#username", "alice")
    login.fill("#password", "not the password at all")
    assert _submit(login, "button[type=submit]") == 401
    assert "Wrong tenant, user name or password" in login.content()
    login.eval_on_selector("input[name=csrf_token]", "input => input.remove()")
    login.fill("#password", PASSWORD)
    assert _submit(login, "button[type=submit]") == 403

    # The overdue item is flagged on the page and counted in the metrics.
    alice.goto(env.url + "/")
    assert alice.locator(f"tr[data-review-id='{env.overdue_review_id}'] .badge.overdue").count() == 1
    assert _metric(env.url, "aios_review_overdue_items", env.acme) == 1.0
    for context in (alice_context, carol_context, bob_context, anonymous):
        context.close()


def test_cookies_and_headers(env: Env) -> None:
    with httpx.Client(base_url=env.url) as client:
        login_page = client.get("/login")
        cookie = login_page.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert "frame-ancestors 'none'" in login_page.headers["content-security-policy"]
        token = client.cookies["aios_review_login_csrf"]
        signed = client.post(
            "/login", data={"tenant": "acme", "username": "alice", "password": PASSWORD, "csrf_token": token}
        )
        assert signed.status_code == 303
        session_cookie = next(h for h in signed.headers.get_list("set-cookie") if h.startswith("aios_review_session="))
        assert (
            "HttpOnly" in session_cookie and "SameSite=strict" in session_cookie and "Max-Age=28800" in session_cookie
        )
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json()["checks"] == {"postgres": True, "kafka": True, "intake": True}


def test_the_complete_form_refuses_overlong_fields(env: Env) -> None:
    """Every verdict must fit one Kafka record: a field over its limit gets a 400 with the limit, nothing changes."""
    review_id = _wait_for_review_id(env.dsn, env.events["amount"]["event_id"])
    with httpx.Client(base_url=env.url) as client:
        client.get("/login")
        login = {"tenant": "acme", "username": "alice", "password": PASSWORD}
        assert client.post("/login", data={**login, "csrf_token": client.cookies["aios_review_login_csrf"]}).is_redirect
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(f"/items/{review_id}").text)
        assert token is not None
        form = {"csrf_token": token[1]}
        assert client.post(f"/items/{review_id}/claim", data=form).is_redirect
        for fields, problem in (
            ({"verdict": "EDIT_APPROVE", "edited_draft": "x" * 1_000_000}, "1,000,000 characters; at most 20,000"),
            ({"verdict": "EDIT_APPROVE", "edited_draft": "x" * 20_001}, "the edited draft has 20,001 characters"),
            ({"verdict": "REJECT", "reason": "r" * 1_000_000}, "the reason has 1,000,000 characters; at most 2,000"),
            ({"verdict": "RELABEL", "corrected_label": "l" * 201}, "the corrected intent has 201 characters"),
            ({"verdict": "REJECT", "reason": "spam\x00"}, "the reason contains a NUL character"),
        ):
            refused = client.post(f"/items/{review_id}/complete", data={**form, **fields})
            assert refused.status_code == 400 and problem in refused.text, refused.text[-600:]
        assert _fetchval(env.dsn, "SELECT status FROM review_items WHERE review_id = $1", review_id) == "pending"
        assert client.post(f"/items/{review_id}/release", data=form).is_redirect


def _wait_for_review_id(dsn: str, event_id: str, timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    while (found := _fetchval(dsn, "SELECT review_id FROM review_items WHERE event_id = $1", event_id)) is None:
        assert time.monotonic() < deadline, f"no review item for {event_id}"
        time.sleep(0.5)
    return str(found)


def _fetchval(dsn: str, query: str, *args: object) -> Any:
    """One value from the test's database, on a thread of its own (not on Playwright's event loop)."""

    async def fetch() -> Any:
        conn = await asyncpg.connect(dsn)
        try:
            return await conn.fetchval(query, *args)
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, fetch()).result()


def _submit(page: Page, button: str) -> int:
    """Click a submit button; the status of the page the form led to (after redirects)."""
    with page.expect_navigation() as navigation:
        page.click(button)
    response = navigation.value
    assert response is not None
    return response.status


async def _expire_claim(dsn: str, review_id: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "UPDATE review_items SET claim_expires_at = now() - interval '1 second' WHERE review_id = $1", review_id
        )
    finally:
        await conn.close()


def _metric(url: str, name: str, tenant: str, timeout_s: float = 20) -> float | None:
    deadline = time.monotonic() + timeout_s
    value = None
    while time.monotonic() < deadline:
        for line in httpx.get(url + "/metrics").text.splitlines():
            if line.startswith(name + "{") and f'tenant="{tenant}"' in line:
                value = float(line.rsplit(" ", 1)[1])
        if value:
            return value
        time.sleep(0.5)
    return value
