"""Each Kafka stage scales out by adding instances to its consumer group (issue 23, point 6).

The whole pipeline on private topics of several partitions, every consuming service as two
instances in one consumer group (ingest, HTTP, as one). Both instances of each stage own
partitions and handle records; every event reaches its final outcome once in effect; after
`kill -9` of one instance of every stage, the other takes over its partitions and the events sent
since, some of them on those partitions, become final too, once each.

Decide (Faust) forwards each input to a by-tenant partition, so one tenant's events are decided by
the instance that holds that partition (with the tenant's tables): here the killed decide instance
is the one that decided, so its partition and tables move to the other.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from confluent_kafka.admin import AdminClient
from prometheus_client.parser import text_string_to_metric_families

from aios.inference.training import TrainResult
from aios.kafka.clients import kafka_config
from aios.settings import ConnectionSettings
from tests.support.outcomes import check_audit, explain, outcome
from tests.support.pipeline import INPUTS, Pipeline, Tenant, instance_name, private_pipeline, wait_for

pytestmark = pytest.mark.chaos

STAGES = ("classify", "retrieve-generate", "decide", "review", "act", "audit", "outcomes")
"""Every service that reads a topic in a consumer group: each runs as two instances."""

PARTITIONS = 4

POLICY = """
tenant: {tenant}
rules:
  - name: asked-for-review
    when:
      text: {matches: '\\[review\\]'}
    review:
      reason: the sender asked for a person
      sla: 1h
default:
  auto:
    reason: answered
    actions:
      - type: webhook.post
        params: {customer: "{attributes.customer}", body: "{draft}"}
"""
"""Review on request (so review's instances have records to take in); everything else one webhook call."""

QUESTIONS = (
    "What is my account balance?",
    "Why is my account blocked?",
    "What is the status of my application?",
    "What APR do I pay on my card?",
    "How much do I owe on my bill?",
)


@pytest.fixture(scope="module")
def scaled(
    connection: ConnectionSettings, tiny_versions: list[TrainResult], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Pipeline, Tenant]]:
    root = tmp_path_factory.mktemp("scale-out")
    instances = dict.fromkeys(STAGES, 2)
    running = private_pipeline(
        connection, root, tiny_versions[0], partitions=PARTITIONS, webhook_secret="scale-secret", instances=instances
    )
    with running as (pipeline, target):
        tenant = pipeline.add_tenant(f"scaled-{pipeline.run}", POLICY, target)
        pipeline.start()
        yield pipeline, tenant


def test_two_instances_of_each_stage_share_its_partitions_and_one_takes_over_when_the_other_is_killed(
    scaled: tuple[Pipeline, Tenant],
) -> None:
    pipeline, tenant = scaled
    groups = Groups(pipeline)
    wait_for(lambda: all(len(groups.members(s)) == 2 for s in STAGES), 120, "two owners in every group", groups.report)
    shared = {stage: groups.members(stage) for stage in STAGES}

    first = submit(pipeline, tenant, range(32))
    wait_final(pipeline, first)
    handled = {name: records_in(pipeline, name) for stage in STAGES for name in instances(stage)}
    assert all(handled.values()), f"an instance handled nothing: {handled}"
    decided = {name: decisions(pipeline, name) for name in instances("decide")}
    assert max(decided.values()) > 0, decided

    victims = [instance_name(stage, 1) for stage in STAGES if stage != "decide"]
    victims.append(max(decided, key=lambda name: decided[name]))  # the holder of the tenant's partition and tables
    for victim in victims:
        pipeline.kill(victim)
    second = submit(pipeline, tenant, range(32, 64))
    wait_final(pipeline, first | second)

    result = outcome(pipeline, first | second, [])
    print(json.dumps({**result.summary(), "handled": handled, "decided": decided, "killed": victims}))
    assert result.duplicate_effects == 0 and result.receiver_actions == result.webhook_actions, result.summary()
    assert result.outcomes["AUTO"] + result.outcomes["REVIEW"] == len(first | second), result.outcomes
    decision_ids: dict[str, set[str]] = {}
    for decision in pipeline.tail.values("decisions"):
        decision_ids.setdefault(decision["event_id"], set()).add(decision["decision_id"])
    assert all(len(ids) == 1 for ids in decision_ids.values()), "an event decided twice, differently"

    wait_for(groups.one_owner_each, 30, "one owner of every partition in every group", groups.report)
    for stage in STAGES:
        landed = landed_on(pipeline, stage, second)
        assert all(owned & landed for owned in shared[stage]), f"{stage}: events sent after the kill on {landed}"
    audit = check_audit(pipeline)
    assert audit.missing == 0 and audit.verified, audit.report


def submit(pipeline: Pipeline, tenant: Tenant, numbers: range) -> set[str]:
    """Events `numbers`, every other one asking for review; their event ids."""
    return {
        pipeline.submit(tenant, QUESTIONS[n % len(QUESTIONS)] + (" [review]" if n % 2 else ""), {"customer": f"C-{n}"})
        for n in numbers
    }


def wait_final(pipeline: Pipeline, accepted: set[str]) -> None:
    """Until every event is decided with its actions executed, or waits for review."""

    def final() -> bool:
        return not outcome(pipeline, accepted, []).lost

    def where() -> str:
        return json.dumps(explain(pipeline, outcome(pipeline, accepted, []).lost, []), default=str)

    wait_for(final, 120, "every event final", where)


def instances(stage: str) -> list[str]:
    return [instance_name(stage, n) for n in range(2)]


def counter(pipeline: Pipeline, name: str, metric: str) -> float:
    """The sum of `metric`'s samples (every label) on instance `name`'s /metrics."""
    text = httpx.get(f"{pipeline.url(name)}/metrics", timeout=10).text
    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples if s.name == metric)


def records_in(pipeline: Pipeline, name: str) -> float:
    return counter(pipeline, name, "aios_records_in_total")


def decisions(pipeline: Pipeline, name: str) -> float:
    return counter(pipeline, name, "aios_decisions_total")


def landed_on(pipeline: Pipeline, stage: str, events: set[str]) -> set[tuple[str, int]]:
    """The input partitions of `stage` that records of `events` were written to."""
    return {
        (pipeline.topics[name], seen.partition)
        for name in INPUTS[stage]
        for seen in pipeline.tail.seen(name)
        if seen.value is not None and seen.value.get("event_id") in events
    }


class Groups:
    """The input partitions each member of a stage's consumer group owns, from the group's assignment on the broker."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.admin = AdminClient(kafka_config(pipeline.connection.kafka_bootstrap))

    def group(self, stage: str) -> str:
        if stage == "decide":
            return self.pipeline.decide.app_id
        return self.pipeline.envs[stage][f"AIOS_{stage.upper().replace('-', '_')}_GROUP_ID"]

    def partitions(self, stage: str) -> set[tuple[str, int]]:
        """Every partition of the stage's input topics."""
        return {(self.pipeline.topics[name], p) for name in INPUTS[stage] for p in range(PARTITIONS)}

    def members(self, stage: str) -> list[set[tuple[str, int]]]:
        """The input partitions of each member that owns any."""
        group = self.group(stage)
        description = self.admin.describe_consumer_groups([group])[group].result(timeout=30)
        inputs = self.partitions(stage)
        owned = [
            {(tp.topic, tp.partition) for tp in m.assignment.topic_partitions} & inputs for m in description.members
        ]
        return [partitions for partitions in owned if partitions]

    def one_owner_each(self) -> bool:
        """Every stage's input partitions all owned by one member."""
        return all(self.members(stage) == [self.partitions(stage)] for stage in STAGES)

    def report(self) -> str:
        return json.dumps({stage: [sorted(owned) for owned in self.members(stage)] for stage in STAGES})
