"""What became of the events a suite sent, counted from the topics and the receivers' own records.

"Lost": an event ingest accepted (202) that reached no final state: a decision (for AUTO and
APPROVED, with every action's result SUCCEEDED and every webhook action received) or a review
request. "Duplicate side effect": a receiver performing one action more than once, i.e. more
effects than distinct action ids (the test receiver performs one effect per Idempotency-Key).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from aios.bench.report import machine
from aios.paths import project_root
from tests.support.database import call_database
from tests.support.pipeline import Pipeline
from tests.support.traffic import Reviewer

RESULTS = project_root() / ".aios" / "resilience"
"""Where the full suites leave their figures (`docs/chaos.md` is written from them)."""

VERDICT_OUTCOMES = {"APPROVED", "REJECTED"}
ACTING_OUTCOMES = {"AUTO", "APPROVED"}


@dataclass
class Outcome:
    accepted: int
    lost: list[str]
    outcomes: Counter[str]
    """Final decisions by outcome, plus REVIEW for events whose review is not completed."""
    webhook_actions: int
    """Distinct webhook actions decided (AUTO and APPROVED decisions)."""
    succeeded: int
    """Distinct actions of these events with a SUCCEEDED result on the executed topic."""
    receiver_requests: int
    receiver_actions: int
    """Distinct action ids the receivers saw."""
    receiver_effects: int
    duplicate_effects: int
    reviews_completed: int
    verdicts_undecided: list[str] = field(default_factory=list)
    """Reviews the reviewer completed whose verdict never became a decision."""

    def summary(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "lost": len(self.lost),
            "outcomes": dict(self.outcomes),
            "webhook_actions": self.webhook_actions,
            "succeeded": self.succeeded,
            "receiver_requests": self.receiver_requests,
            "receiver_actions": self.receiver_actions,
            "receiver_effects": self.receiver_effects,
            "duplicate_effects": self.duplicate_effects,
            "reviews_completed": self.reviews_completed,
            "verdicts_undecided": len(self.verdicts_undecided),
        }


def outcome(pipeline: Pipeline, accepted: set[str], reviewers: list[Reviewer]) -> Outcome:
    decisions: dict[str, list[dict[str, Any]]] = {}
    for decision in pipeline.tail.values("decisions"):
        decisions.setdefault(decision["event_id"], []).append(decision)
    reviewed = {r["event_id"] for r in pipeline.tail.values("review_requested")}
    succeeded = {r["action_id"] for r in pipeline.tail.values("executed") if r["status"] == "SUCCEEDED"}
    requests = [
        r
        for tenant in pipeline.tenants.values()
        for r in tenant.target.received()
        if isinstance(r.body, dict) and r.body.get("event_id") in accepted
    ]
    received = {r.body["action_id"] for r in requests}
    # The receiver performs one effect per Idempotency-Key (a request without one is an effect of its own).
    effects = len({r.key or f"no-key-{n}" for n, r in enumerate(requests)})

    lost, webhook_actions, done, counts = [], 0, 0, Counter[str]()
    for event_id in accepted:
        # After a review, the verdict's decision (APPROVED or REJECTED) is the final one.
        final = sorted(decisions.get(event_id, []), key=lambda d: d["outcome"] not in VERDICT_OUTCOMES)
        if not final:
            if event_id in reviewed:
                counts["REVIEW"] += 1
            else:
                lost.append(event_id)
            continue
        decision = final[0]
        actions = decision["actions"] if decision["outcome"] in ACTING_OUTCOMES else []
        webhooks = {a["action_id"] for a in actions if a["type"].startswith("webhook.")}
        webhook_actions += len(webhooks)
        done += len({a["action_id"] for a in actions} & succeeded)
        if {a["action_id"] for a in actions} <= succeeded and webhooks <= received:
            counts[decision["outcome"]] += 1
        else:
            lost.append(event_id)
    # A copy first: the reviewers' threads add to their dicts meanwhile.
    completed = {event_id for reviewer in reviewers for event_id, _ in dict(reviewer.completed).values()}
    undecided = sorted(e for e in completed if not any(d["outcome"] in VERDICT_OUTCOMES for d in decisions.get(e, [])))
    return Outcome(
        accepted=len(accepted),
        lost=sorted(lost),
        outcomes=counts,
        webhook_actions=webhook_actions,
        succeeded=done,
        receiver_requests=len(requests),
        receiver_actions=len(received),
        receiver_effects=effects,
        duplicate_effects=effects - len(received),
        reviews_completed=len(completed),
        verdicts_undecided=undecided,
    )


def explain(pipeline: Pipeline, event_ids: list[str], reviewers: list[Reviewer]) -> list[dict[str, Any]]:
    """Where each event's trail stops, from every topic and the reviewers' answers: for failure messages."""

    def about(name: str, event_id: str, *fields: str) -> list[dict[str, Any]]:
        return [{f: v.get(f) for f in fields} for v in pipeline.tail.values(name) if v.get("event_id") == event_id]

    def when(name: str, event_id: str) -> list[str]:
        """Kafka timestamps (UTC) of the event's records on a topic."""
        seen = [s for s in pipeline.tail.seen(name) if s.value is not None and s.value.get("event_id") == event_id]
        return [time.strftime("%H:%M:%S", time.gmtime(s.timestamp_ms / 1000)) + f"@{s.partition}" for s in seen]

    names = {topic: name for name, topic in pipeline.topics.items()}

    async def trail(pool: Any, event_id: str) -> dict[str, int]:
        rows = await pool.fetch("SELECT topic, count(*) FROM audit_log WHERE event_id = $1 GROUP BY topic", event_id)
        return {names.get(r["topic"], r["topic"]): r["count"] for r in rows}

    found = []
    for event_id in event_ids[:10]:
        reviews = about("review_requested", event_id, "review_id", "reason")
        found.append(
            {
                "event_id": event_id,
                "stages": {name: when(name, event_id) for name in pipeline.topics},
                "audit_trail": call_database(pipeline.dsn, partial(trail, event_id=event_id)),
                "review_requested": reviews,
                "review_completed": about("review_completed", event_id, "review_id", "verdict", "completed_at"),
                "decisions": about("decisions", event_id, "outcome", "decided_at"),
                "reviewer": [r.answers.get(str(v["review_id"])) for r in reviewers for v in reviews],
                "dead_letters": about("deadletter", event_id, "service", "error_kind", "reason"),
            }
        )
    return found


def settle(
    pipeline: Pipeline, accepted: set[str], reviewers: list[Reviewer], timeout_s: float = 600, quiet_s: float = 120
) -> Outcome:
    """The outcome once every event is final and every completed review decided, or nothing moved for `quiet_s`."""
    deadline = time.monotonic() + timeout_s
    last, moved = None, time.monotonic()
    while True:
        current = outcome(pipeline, accepted, reviewers)
        pending_reviews = current.outcomes["REVIEW"]
        if not current.lost and not current.verdicts_undecided and not pending_reviews:
            return current
        progress = (len(current.lost), len(current.verdicts_undecided), pending_reviews)
        if progress != last:
            last, moved = progress, time.monotonic()
        if time.monotonic() > deadline or time.monotonic() - moved > quiet_s:
            return current
        time.sleep(2)


@dataclass(frozen=True)
class AuditCheck:
    recorded: int
    """Records of the pipeline's topics the trail holds."""
    missing: int
    """Records on the topics the trail neither holds nor dead-lettered (as unreadable)."""
    verified: bool
    """`aios audit verify` exited 0."""
    report: dict[str, Any]


def check_audit(pipeline: Pipeline, timeout_s: float = 180) -> AuditCheck:
    """Wait until the trail holds every readable record the topics hold, then run `aios audit verify` on it."""
    topics = list(pipeline.topics.values())

    async def rows(pool: Any) -> set[tuple[str, int, int]]:
        found = await pool.fetch(
            "SELECT topic, kafka_partition, kafka_offset FROM audit_log WHERE topic = ANY($1::text[])", topics
        )
        return {(r["topic"], r["kafka_partition"], r["kafka_offset"]) for r in found}

    deadline = time.monotonic() + timeout_s
    while True:
        on_topics = pipeline.tail.coordinates()
        refused = {
            (d["original_topic"], d["original_partition"], d["original_offset"])
            for d in pipeline.tail.values("deadletter")
            if d["service"] == "audit"
        }
        recorded = call_database(pipeline.dsn, rows)
        missing = on_topics - recorded - refused
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(2)
    verify = subprocess.run(
        [str(Path(sys.executable).parent / "aios"), "audit", "verify", "--json"],
        env={**os.environ, "AIOS_POSTGRES_DSN": pipeline.dsn},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    report = json.loads(verify.stdout) if verify.stdout.strip().startswith("{") else {"stderr": verify.stderr[-2000:]}
    return AuditCheck(len(recorded & on_topics), len(missing), verify.returncode == 0, report)


def record_results(name: str, figures: dict[str, Any]) -> None:
    """Keep a full suite's figures, with the machine and the date, as `.aios/resilience/<name>.json`."""
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    stamped = {"test": name, "machine": machine(), "date": date, **figures}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(stamped, indent=2))
    print(json.dumps(stamped))
