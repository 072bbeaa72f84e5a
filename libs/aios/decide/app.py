"""The decide service as a Faust app: the wiring of its topics, tables, handlers and guards.

Two agents. `intake` reads `aios.events.enriched` and `aios.review.completed` as raw bytes,
dead-letters what does not decode, and forwards the rest, unchanged, to the internal
`<app id>-by-tenant` topic keyed by tenant: from there on each tenant's events and verdicts are
handled in order by one worker, next to that tenant's windowed state and pending reviews.
`decide` applies the tenant's policy (`Decider`) and sends the decision or review request. What
they do with a record is in `aios.decide.handlers`; before each record they ask the gap guard for
records Faust skipped (`aios.decide.gaps`), and a timer asks the stall guard to resume partitions
Faust stopped fetching (`aios.decide.stalls`).

Delivery is at-least-once: Faust produces what an agent sends for a record (and the tables'
changelog writes) before committing that record's offset. A crash in between re-handles the
record; its outputs carry the same derived ids, so downstream sees a harmless duplicate.
"""

from __future__ import annotations

from typing import Any

import faust
from confluent_kafka.admin import AdminClient

from aios.decide.codec import AvroCodec
from aios.decide.decider import Decider
from aios.decide.documents import PostgresDocuments
from aios.decide.gaps import GapGuard, ReadingGapGuard
from aios.decide.handlers import SERVICE, Handlers, Sinks
from aios.decide.policies import PolicyCache
from aios.decide.records import Origin, Record
from aios.decide.settings import DecideSettings
from aios.decide.stalls import ResumingStallGuard, StallGuard
from aios.decide.state import CHANGELOG_CONFIGS, FaustStreamStats
from aios.kafka.clients import faust_credentials, kafka_config
from aios.kafka.serde import Codecs
from aios.kafka.topics import schema_bindings
from aios.policy.stream import Windows
from aios.settings import ConnectionSettings

RAW: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
"""Inputs are read as bytes and decoded by the handlers, so a record that does not decode is dead-lettered."""


def broker_url(bootstrap: str) -> str:
    return ";".join(f"kafka://{host.strip()}" for host in bootstrap.split(",") if host.strip())


def create_app(settings: DecideSettings | None = None, connection: ConnectionSettings | None = None) -> faust.App:
    settings = settings or DecideSettings()
    connection = connection or ConnectionSettings()
    codecs = _codecs(settings, connection)
    app = _faust_app(settings, connection)
    inputs = app.topic(settings.enriched_topic, settings.completed_topic, **RAW)
    by_tenant = app.topic(
        f"{settings.app_id}-by-tenant",
        internal=True,
        partitions=settings.partitions,
        replicas=settings.replication_factor,
        **RAW,
    )

    def avro_topic(name: str) -> faust.TopicT:
        return app.topic(name, key_serializer="raw", value_serializer=AvroCodec(codecs.for_topic(name)))

    sinks = Sinks(
        by_tenant=by_tenant,
        outputs={
            "decision": avro_topic(settings.decisions_topic),
            "review": avro_topic(settings.review_requested_topic),
        },
        deadletters=avro_topic(settings.deadletter_topic),
    )
    policies = PolicyCache(connection.postgres_dsn.get_secret_value(), settings.policy_poll_interval_s)
    pending: Any = app.Table("pending-reviews", partitions=settings.partitions, extra_topic_configs=CHANGELOG_CONFIGS)
    decider = Decider(
        policies,
        FaustStreamStats(app, Windows(share_step_s=settings.share_window_step_s), settings.partitions),
        pending,
        no_policy_sla_s=settings.no_policy_sla_s,
        service=SERVICE,
        documents=PostgresDocuments(connection.postgres_dsn.get_secret_value()),
    )
    handlers = Handlers(settings, codecs, decider, policies, sinks)
    watched = {settings.enriched_topic, settings.completed_topic, by_tenant.get_topic_name()}
    stalls = ResumingStallGuard(settings.stall_after_s, watched, SERVICE)
    _add_agents(app, inputs, by_tenant, handlers, ReadingGapGuard(connection.kafka_bootstrap, SERVICE, settings.app_id))
    _add_background(app, settings, policies, stalls)
    return app


def _codecs(settings: DecideSettings, connection: ConnectionSettings) -> Codecs:
    # Topics may be renamed (tests' private topics): say which catalogue schema each carries.
    return Codecs(connection.schema_registry_url, carries=schema_bindings(settings))


def _faust_app(settings: DecideSettings, connection: ConnectionSettings) -> faust.App:
    return faust.App(
        settings.app_id,
        broker=broker_url(connection.kafka_bootstrap),
        broker_credentials=faust_credentials(connection),
        store="memory://",
        datadir=str(settings.data_dir / settings.app_id),
        autodiscover=False,
        web_enabled=False,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        broker_commit_interval=settings.commit_interval_s,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 3),
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
    )


def _add_agents(
    app: faust.App, inputs: faust.TopicT, by_tenant: faust.TopicT, handlers: Handlers, gaps: GapGuard
) -> None:
    """The two agents; each handles the records Faust skipped before the one in hand (`gaps`)."""

    @app.on_partitions_revoked.connect
    def forget_offsets(_sender: Any, /, *_args: Any, signal: Any, **_kwargs: Any) -> None:
        gaps.forget()

    @app.agent(inputs)
    async def intake(stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            for record, offset in await gaps.skipped_before(message):
                await handlers.take_in(record, Origin(message.topic, message.partition, offset))
            await handlers.take_in(Record.of_faust(message), Origin(message.topic, message.partition, message.offset))

    @app.agent(by_tenant)
    async def decide(stream: faust.StreamT) -> None:
        async for event in stream.events():
            for record, _offset in await gaps.skipped_before(event.message):
                await handlers.decide(record)
            await handlers.decide(Record.of_faust(event.message))


def _add_background(app: faust.App, settings: DecideSettings, policies: PolicyCache, stalls: StallGuard) -> None:
    """Following policy changes, and the stall guard's timer."""

    @app.task
    async def follow_policies() -> None:
        await policies.follow()

    @app.timer(settings.stall_check_s)
    async def resume_stalled_partitions() -> None:
        await stalls.check(app.consumer)


def delete_internal_topics(bootstrap: str, app_id: str) -> None:
    """Remove the topics Faust created for `app_id` (by-tenant, changelogs, leader): for runs on scratch topics."""
    admin = AdminClient(kafka_config(bootstrap))
    mine = [name for name in admin.list_topics(timeout=30).topics if name.startswith(f"{app_id}-")]
    if mine:
        for future in admin.delete_topics(mine, operation_timeout=30).values():
            future.result(timeout=30)
