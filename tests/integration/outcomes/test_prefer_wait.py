"""`Prefer: wait=N` against the live pipeline: each outcome kind, the timeout fallback, idempotent retries."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from aios.ingest.models import EventOutcome
from aios.tenants.signatures import SIGNATURE_HEADER, signature_header
from aios.tenants.store import AUDITOR, IssuedWebhookSecret, TenantStore
from tests.integration.outcomes.conftest import CLASSIFY_MAX_RECORD_BYTES, MAX_WAIT_S
from tests.support.database import call_database
from tests.support.documents import invoice_pdf
from tests.support.http_target import Received
from tests.support.pipeline import EXTRACT, Pipeline, Tenant, wait_for

WAIT = f"wait={MAX_WAIT_S}"


def submit(
    pipeline: Pipeline, tenant: Tenant, text: str, prefer: str | None = WAIT, key: str | None = None, **attributes: str
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {tenant.api_key}"}
    if prefer is not None:
        headers["Prefer"] = prefer
    if key is not None:
        headers["Idempotency-Key"] = key
    body = {"type": "support.ticket", "text": text, "attributes": attributes}
    return httpx.post(f"{pipeline.url('ingest')}/v1/events", headers=headers, json=body, timeout=MAX_WAIT_S + 30)


def outcome(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["Preference-Applied"] == WAIT
    EventOutcome.model_validate(response.json())  # the documented answer (docs/openapi.json is made of it)
    found: dict[str, Any] = response.json()["outcome"]
    return found


def received_with(pipeline: Pipeline, event_id: str) -> list[dict[str, Any]]:
    return [r for r in pipeline.tail.values("received") if r["event_id"] == event_id]


def webhook_calls(tenant: Tenant, event_id: str) -> list[Received]:
    return [r for r in tenant.target.received() if r.body and r.body.get("event_id") == event_id]


def test_a_waiting_caller_gets_the_decision_with_its_actions_results_and_status_shows_the_same(
    waiting_pipeline: tuple[Pipeline, Tenant],
) -> None:
    pipeline, tenant = waiting_pipeline
    response = submit(pipeline, tenant, "what is my account balance", customer="C-1")
    decided = outcome(response)
    assert decided["kind"] == "decided" and decided["final"] is True
    assert decided["decision"]["outcome"] == "AUTO" and decided["decision"]["reason"] == "answered"
    [action] = decided["actions"]
    assert action["type"] == "webhook.post" and action["status"] == "SUCCEEDED" and action["attempts"] >= 1
    # The action ran before the answer: the receiver has it.
    assert webhook_calls(tenant, response.json()["event_id"])
    status = httpx.get(response.json()["status_url"], headers={"Authorization": f"Bearer {tenant.api_key}"})
    assert status.status_code == 200 and status.json()["outcome"] == decided


def test_a_refused_event_answers_rejected_with_the_reason(waiting_pipeline: tuple[Pipeline, Tenant]) -> None:
    pipeline, tenant = waiting_pipeline
    rejected = outcome(submit(pipeline, tenant, "[reject] please close my account"))
    assert rejected["kind"] == "rejected" and rejected["final"] is True
    assert rejected["decision"]["outcome"] == "REJECT"
    assert rejected["decision"]["reason"] == "the sender asked to be refused" and rejected["actions"] == []


def test_an_event_sent_to_a_person_answers_review_requested_with_the_review_and_its_sla(
    waiting_pipeline: tuple[Pipeline, Tenant],
) -> None:
    pipeline, tenant = waiting_pipeline
    before = datetime.now(UTC)
    waiting = outcome(submit(pipeline, tenant, "[review] my card was blocked"))
    assert waiting["kind"] == "review_requested" and waiting["final"] is False and waiting["decision"] is None
    review = waiting["review"]
    assert review["review_id"] and review["reason"] == "the sender asked for a person"
    deadline = datetime.fromisoformat(review["sla_deadline"])
    assert before + timedelta(minutes=59) < deadline < datetime.now(UTC) + timedelta(minutes=61)


def test_an_event_a_stage_dead_letters_answers_dead_lettered_with_the_reason(
    waiting_pipeline: tuple[Pipeline, Tenant],
) -> None:
    pipeline, tenant = waiting_pipeline
    dead = outcome(submit(pipeline, tenant, "balance " * (CLASSIFY_MAX_RECORD_BYTES // 4)))
    assert dead["kind"] == "dead_lettered" and dead["final"] is True
    assert dead["dead_letter"]["service"] == "classify" and dead["dead_letter"]["error_kind"] == "too-large"
    assert dead["dead_letter"]["reason"]


def test_a_signed_webhook_may_wait_too(waiting_pipeline: tuple[Pipeline, Tenant]) -> None:
    pipeline, tenant = waiting_pipeline
    source = f"crm-{uuid.uuid4().hex[:8]}"
    issued = call_database(pipeline.dsn, lambda pool: TenantStore(pool).add_webhook_source(source, tenant.tenant_id))
    assert isinstance(issued, IssuedWebhookSecret)
    body = json.dumps({"type": "support.ticket", "text": "[reject] from the crm"}).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature_header(issued.secret, int(time.time()), body),
        "Prefer": f"respond-async, {WAIT}",
    }
    response = httpx.post(f"{pipeline.url('ingest')}/v1/webhooks/{source}", content=body, headers=headers, timeout=90)
    assert outcome(response)["kind"] == "rejected"


def test_an_uploaded_document_may_wait_for_its_decision_too(waiting_pipeline: tuple[Pipeline, Tenant]) -> None:
    """Through the extract service: the upload's answer is the decision of the event the document became."""
    pipeline, tenant = waiting_pipeline
    pipeline.start(EXTRACT)
    response = httpx.post(
        f"{pipeline.url('ingest')}/v1/documents",
        headers={"Authorization": f"Bearer {tenant.api_key}", "Prefer": WAIT},
        files={"file": ("invoice.pdf", invoice_pdf(number="INV-WAIT-1"), "application/pdf")},
        data={"type": "invoice", "attributes": json.dumps({"customer": "C-7"})},
        timeout=MAX_WAIT_S + 30,
    )
    decided = outcome(response)
    assert decided["kind"] == "decided" and decided["decision"]["reason"] == "answered"
    event_id = response.json()["event_id"]
    [call] = webhook_calls(tenant, event_id)
    assert call.body is not None and call.body["params"]["customer"] == "C-7"
    # Its lineage, from the audit trail: the document stored, what was read from it, and what was decided.
    auditor = call_database(pipeline.dsn, lambda pool: TenantStore(pool).add_key(tenant.tenant_id, AUDITOR))
    url, headers = f"{pipeline.url('audit')}/v1/audit/events/{event_id}", {"Authorization": f"Bearer {auditor.api_key}"}
    wait_for(lambda: "acted" in httpx.get(url, headers=headers).json().get("stages", []), 60, "the lineage complete")
    summary = httpx.get(url, headers=headers).json()["summary"]
    assert summary["document"]["pages"] == 1 and summary["document"]["extractor_version"]
    assert summary["document"]["fields"]["invoice_number"]["value"] == "INV-WAIT-1"
    assert summary["policy"]["rule"] and [a["status"] for a in summary["actions"]] == ["SUCCEEDED"]


def test_without_the_preference_the_answer_is_202_at_once(waiting_pipeline: tuple[Pipeline, Tenant]) -> None:
    pipeline, tenant = waiting_pipeline
    response = submit(pipeline, tenant, "[reject] no hurry", prefer=None)
    assert response.status_code == 202 and "Preference-Applied" not in response.headers
    assert response.json()["status_url"].endswith(response.json()["event_id"])


def test_when_the_wait_runs_out_the_answer_is_202_and_a_retry_with_the_key_gets_the_outcome_of_the_one_event(
    waiting_pipeline: tuple[Pipeline, Tenant],
) -> None:
    pipeline, tenant = waiting_pipeline
    key = str(uuid.uuid4())
    pipeline.kill("outcomes")  # nothing announces outcomes: every wait runs out
    try:
        started = time.monotonic()
        first = submit(pipeline, tenant, "what is my account balance", prefer="wait=2", key=key)
        assert first.status_code == 202, first.text
        assert first.headers["Preference-Applied"] == "wait=2" and time.monotonic() - started >= 2
    finally:
        pipeline.start("outcomes")
    event_id = first.json()["event_id"]
    # Asked for longer than the edge allows: it waits what it allows, and says so.
    retried = submit(pipeline, tenant, "what is my account balance", prefer="wait=600", key=key)
    assert retried.status_code == 200, retried.text
    assert retried.headers["Preference-Applied"] == WAIT and retried.json()["event_id"] == event_id
    assert retried.json()["outcome"]["kind"] == "decided"
    again = submit(pipeline, tenant, "what is my account balance", key=key)
    assert again.json() == retried.json()
    assert len(received_with(pipeline, event_id)) == 1
    assert len(webhook_calls(tenant, event_id)) == 1
