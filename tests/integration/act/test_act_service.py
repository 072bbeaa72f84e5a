"""The act service against the real stack, real HTTP receivers and a real SMTP server.

Every test uses tenants of its own on the module's service, so what one test's receivers do
(down, slow, failing) is also a check that other tenants are not held up by it.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest

from aios.act.plan import compensation_id_for
from aios.bench.lineage import decision_value as decision
from aios.keys.signing import RecordSigner
from tests.integration.act.conftest import DECISIONS, ActHarness
from tests.support.http_target import HttpTarget, free_port
from tests.support.smtp_sink import SmtpSink

FAST_RETRIES = {"base_delay_s": 0.2, "max_delay_s": 0.5, "jitter": 0.1}


@pytest.fixture
def target() -> Iterator[HttpTarget]:
    receiver = HttpTarget(secret="whsec_test_secret").start()
    yield receiver
    receiver.stop()


def tenant() -> str:
    return f"tenant-{uuid.uuid4().hex[:8]}"


def statuses(records: list[dict]) -> Counter[str]:
    return Counter(r["status"] for r in records)


def test_a_decision_delivered_three_times_has_one_effect(act: ActHarness, target: HttpTarget) -> None:
    """Redelivery: the inbox holds the action id, so the copies run nothing and are reported as duplicates."""
    who = tenant()
    act.configure(who, "webhook", {"url": f"{target.url}/hooks/{who}", "secret": "whsec_test_secret"})
    sent = decision(who, [("webhook.post", {"message": "refund approved"})])
    act.send(sent)
    act.results({sent["event_id"]}, 1)
    act.send(sent, sent)  # two more deliveries of the same record, after the first was performed
    records = act.results({sent["event_id"]}, 3)
    time.sleep(1)
    assert statuses(records) == {"SUCCEEDED": 1, "SKIPPED_DUPLICATE": 2}
    action_id = sent["actions"][0]["action_id"]
    assert {r["action_id"] for r in records} == {action_id}
    requests = target.received(f"/hooks/{who}")
    assert len(requests) == 1 and len(target.effects) == 1
    assert requests[0].key == action_id, "the action id travels as the Idempotency-Key"
    assert requests[0].signed is True, "signed with the tenant's secret, as ingest verifies"
    assert requests[0].body["params"] == {"message": "refund approved"}
    succeeded = next(r for r in records if r["status"] == "SUCCEEDED")
    assert succeeded["external_ref"] == "ref-1" and succeeded["attempts"] == 1
    assert act.inbox_status(action_id) == "succeeded"


def test_a_decision_not_signed_by_decide_is_refused(act: ActHarness, target: HttpTarget) -> None:
    """Any principal that can write the decisions topic could forge a payout; without decide's signature it
    reaches the dead letters and nothing is performed, while signed decisions go on."""
    who = tenant()
    act.configure(who, "webhook", {"url": f"{target.url}/hooks/{who}", "secret": "whsec_test_secret"})
    unsigned = decision(who, [("webhook.post", {"message": "pay me"})])
    tampered = decision(who, [("webhook.post", {"message": "pay me more"})])
    act.send(unsigned, signed=False)
    forged = RecordSigner("decide", DECISIONS).signed(tampered)
    act.send({**forged, "actions": [{**forged["actions"][0], "params": {"message": "pay me a lot"}}]}, signed=False)
    honest = decision(who, [("webhook.post", {"message": "refund approved"})])
    act.send(honest)
    act.results({honest["event_id"]}, 1)
    dead = act.records(act.deadletter, {unsigned["event_id"], tampered["event_id"]}, lambda found: len(found) >= 2)
    reasons = {letter["event_id"]: letter["reason"] for letter in dead}
    assert "carries no signature of decide" in reasons[unsigned["event_id"]]
    assert "does not verify under decide's key" in reasons[tampered["event_id"]]
    assert act.inbox(unsigned["actions"][0]["action_id"]) is None
    assert act.inbox(tampered["actions"][0]["action_id"]) is None
    assert [r.body["params"] for r in target.received(f"/hooks/{who}")] == [{"message": "refund approved"}]


def test_a_target_down_for_a_while_gets_the_action_once_it_is_back(act: ActHarness) -> None:
    who = tenant()
    receiver = HttpTarget(port=free_port())  # not listening yet: connection refused
    act.configure(who, "webhook", {"url": f"{receiver.url}/hooks", "retry": {**FAST_RETRIES, "attempts": 50}})
    sent = decision(who, [("webhook.post", {"message": "hello"})])
    act.send(sent)
    action_id = sent["actions"][0]["action_id"]
    row = act.wait_inbox(action_id, lambda r: r["attempts"] >= 3)
    assert row["status"] in ("pending", "running") and "ConnectError" in (row["error"] or "")
    receiver.start()
    try:
        (record,) = act.results({sent["event_id"]}, 1)
    finally:
        receiver.stop()
    assert record["status"] == "SUCCEEDED" and record["attempts"] >= 3
    assert [r.key for r in receiver.received()] == [action_id]


def test_a_permanently_failing_target_fails_the_action_with_a_dead_letter(act: ActHarness, target: HttpTarget) -> None:
    """503 is retried until the policy's attempts are spent; the reason reaches the dead letter."""
    who = tenant()
    target.fail(f"/hooks/{who}", 503)
    act.configure(who, "webhook", {"url": f"{target.url}/hooks/{who}", "retry": {**FAST_RETRIES, "attempts": 3}})
    sent = decision(who, [("webhook.post", {"message": "hello"})])
    act.send(sent)
    (record,) = act.results({sent["event_id"]}, 1)
    assert (record["status"], record["attempts"]) == ("FAILED", 3)
    assert "answered 503" in record["error"]
    (dead,) = act.records(act.deadletter, {sent["event_id"]}, lambda found: len(found) >= 1)
    assert dead["error_kind"] == "action-failed" and dead["service"] == "act"
    assert "failed permanently" in dead["reason"] and "answered 503" in dead["reason"]
    assert (dead["original_topic"], dead["tenant_id"]) == (act.decisions, who)
    assert act.codecs.decode(act.decisions, dead["original_value"])["decision_id"] == sent["decision_id"]
    requests = target.received(f"/hooks/{who}")
    assert len(requests) == 3 and {r.key for r in requests} == {sent["actions"][0]["action_id"]}


def test_a_client_error_is_not_retried(act: ActHarness, target: HttpTarget) -> None:
    who = tenant()
    target.fail(f"/hooks/{who}", 400)
    act.configure(who, "webhook", {"url": f"{target.url}/hooks/{who}", "retry": FAST_RETRIES})
    sent = decision(who, [("webhook.post", {})])
    act.send(sent)
    (record,) = act.results({sent["event_id"]}, 1)
    assert (record["status"], record["attempts"]) == ("FAILED", 1)
    assert len(target.received(f"/hooks/{who}")) == 1


def test_when_the_third_action_fails_the_first_two_are_compensated_latest_first(
    act: ActHarness, target: HttpTarget
) -> None:
    who = tenant()
    crm = f"/crm/{who}"
    target.fail(f"{crm}/payments", 422)
    act.configure(
        who,
        "http",
        {
            "url": f"{target.url}{crm}",
            "headers": {"Authorization": "Bearer crm-token"},
            "operations": {
                "create_ticket": {"path": "/tickets", "body": {"subject": "{subject}", "event": "{event_id}"}},
                "close_ticket": {"path": "/tickets/close", "body": {"reason": "{reason}"}},
                "charge": {"path": "/payments"},
            },
        },
    )
    act.configure(who, "webhook", {"url": f"{target.url}/hooks/{who}"})
    sent = decision(
        who,
        [
            ("http.create_ticket", {"subject": "Charged twice"}, ("http.close_ticket", {"reason": "rolled back"})),
            ("webhook.post", {"message": "ticket opened"}, ("webhook.retract", {"message": "ignore that"})),
            ("http.charge", {"amount": "12.00"}),
        ],
    )
    act.send(sent)
    records = act.results({sent["event_id"]}, 5)
    ids = [a["action_id"] for a in sent["actions"]]
    by_action = {(r["action_id"], r["status"]) for r in records}
    assert by_action == {
        (ids[0], "SUCCEEDED"),
        (ids[1], "SUCCEEDED"),
        (ids[2], "FAILED"),
        (ids[1], "COMPENSATED"),
        (ids[0], "COMPENSATED"),
    }
    paths = [(r.path, r.body.get("type") if r.path.startswith("/hooks") else r.body) for r in target.received()]
    ours = [p for p in paths if p[0].startswith((crm, f"/hooks/{who}"))]
    assert ours == [
        (f"{crm}/tickets", {"subject": "Charged twice", "event": sent["event_id"]}),
        (f"/hooks/{who}", "webhook.post"),
        (f"{crm}/payments", {"amount": "12.00"}),
        (f"/hooks/{who}", "webhook.retract"),
        (f"{crm}/tickets/close", {"reason": "rolled back"}),
    ], "compensations run after the failure, latest first"
    compensations = [r for r in target.received() if r.path in (f"/hooks/{who}", f"{crm}/tickets/close")][1:]
    assert [r.key for r in compensations] == [compensation_id_for(ids[1]), compensation_id_for(ids[0])]
    assert target.received(f"{crm}/tickets")[0].headers["Authorization"] == "Bearer crm-token"
    assert act.inbox_status(ids[0]) == act.inbox_status(ids[1]) == "compensated"
    (dead,) = act.records(act.deadletter, {sent["event_id"]}, lambda found: len(found) >= 1)
    assert "answered 422" in dead["reason"]


def test_later_actions_of_a_failed_decision_never_run(act: ActHarness, target: HttpTarget) -> None:
    who = tenant()
    act.configure(who, "webhook", {"url": f"{target.url}/hooks/{who}"})
    sent = decision(who, [("crm.create_ticket", {}), ("webhook.post", {})])
    act.send(sent)
    (record,) = act.results({sent["event_id"]}, 1)
    assert record["status"] == "FAILED" and "names no connector" in record["error"]
    time.sleep(1)
    assert target.received(f"/hooks/{who}") == []
    assert act.inbox_status(sent["actions"][1]["action_id"]) == "cancelled"


def test_rejected_decisions_run_nothing(act: ActHarness, target: HttpTarget) -> None:
    who = tenant()
    act.configure(who, "webhook", {"url": f"{target.url}/hooks/{who}"})
    rejected = decision(who, [("webhook.post", {})], outcome="REJECTED")
    approved = decision(who, [("log.record", {"note": "approved by a reviewer"})], outcome="APPROVED")
    act.send(rejected, approved)
    records = act.results({rejected["event_id"], approved["event_id"]}, 1)
    time.sleep(1)
    assert [(r["event_id"], r["status"]) for r in records] == [(approved["event_id"], "SUCCEEDED")]
    assert records[0]["external_ref"] == f"log:{approved['actions'][0]['action_id']}"
    assert target.received(f"/hooks/{who}") == [] and act.inbox(rejected["actions"][0]["action_id"]) is None


def test_email_goes_out_over_smtp_with_the_action_id_as_message_id(act: ActHarness) -> None:
    """The first delivery attempt gets a 451 (transient) and is retried."""
    who = tenant()
    smtp = SmtpSink(refuse_first=1).start()
    try:
        act.configure(
            who, "email", {"host": "127.0.0.1", "port": smtp.port, "sender": "aios@bank.test", "retry": FAST_RETRIES}
        )
        sent = decision(who, [("email.send", {"to": "jane@example.com", "subject": "Refund", "body": "Done."})])
        act.send(sent)
        (record,) = act.results({sent["event_id"]}, 1)
    finally:
        smtp.stop()
    action_id = sent["actions"][0]["action_id"]
    assert (record["status"], record["attempts"], record["external_ref"]) == ("SUCCEEDED", 2, f"<{action_id}@aios.act>")
    (message,) = smtp.messages
    assert message["Message-ID"] == f"<{action_id}@aios.act>" and message["To"] == "jane@example.com"
    payload = message.get_payload()
    assert isinstance(payload, str) and payload.strip() == "Done."  # one plain-text part


def test_a_slow_target_of_one_tenant_does_not_hold_up_another(act: ActHarness, target: HttpTarget) -> None:
    """Slow tenant: 12 actions that take 3 s each, sent first. The other tenant's 6 are all done before
    the first slow one: the slow tenant holds at most its 2 slots of the 8."""
    slow, fast = tenant(), tenant()
    target.slow(f"/hooks/{slow}", 3.0)
    act.configure(slow, "webhook", {"url": f"{target.url}/hooks/{slow}"})
    act.configure(fast, "webhook", {"url": f"{target.url}/hooks/{fast}"})
    slow_decisions = [decision(slow, [("webhook.post", {"n": str(n)})]) for n in range(12)]
    fast_decisions = [decision(fast, [("webhook.post", {"n": str(n)})]) for n in range(6)]
    act.send(*slow_decisions)
    target.wait_for(2, f"/hooks/{slow}")
    act.send(*fast_decisions)
    fast_events = {d["event_id"] for d in fast_decisions}
    fast_done = act.results(fast_events, 6)
    slow_done = act.results({d["event_id"] for d in slow_decisions}, 1)
    assert statuses(fast_done) == {"SUCCEEDED": 6}
    assert max(r["executed_at"] for r in fast_done) < min(r["executed_at"] for r in slow_done)
    arrivals = [r.at for r in target.received(f"/hooks/{slow}")]
    at_once = max(sum(1 for other in arrivals if start <= other < start + 2.5) for start in arrivals)
    assert at_once == 2, "the slow tenant has 2 actions under way at a time, never more"
