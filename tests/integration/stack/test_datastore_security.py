"""PostgreSQL and Redis refuse what a principal may not do: no or a wrong password, plain TCP, other tables or keys."""

from __future__ import annotations

import asyncio
import ssl
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
import pytest
import redis
from pydantic import SecretStr

from aios.datastores import OWNER, load_datastore_grants, without_credentials
from aios.db.errors import MigrationError
from aios.db.migrations import Migration, migrate
from aios.db.pool import open_pool
from aios.documents.feedback import ReviewedDocument, store_example
from aios.kafka.clients import access
from aios.outcomes.model import DeadLetterOutcome, Outcome
from aios.outcomes.store import OutcomeWriter, StoredOutcome
from aios.settings import ConnectionSettings
from aios.stack.stack import LocalStack

T = TypeVar("T")


@pytest.fixture(autouse=True)
def secure(connection: ConnectionSettings) -> None:
    if not access(connection).secure:
        pytest.skip("the stack runs with security off (AIOS_STACK_SECURITY=false)")


def as_principal(name: str) -> ConnectionSettings:
    """The settings a process running as `name` gets: its own role and Redis user."""
    return ConnectionSettings(principal=name)


def on_database(name: str, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    async def run() -> T:
        conn = await asyncpg.connect(as_principal(name).postgres_dsn.get_secret_value())
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


def connect_raw(connection: ConnectionSettings, **options: Any) -> None:
    """Connect as the audit role with `options` instead of its own credentials (expected to be refused)."""
    location = urlsplit(connection.postgres_dsn.get_secret_value())

    async def run() -> None:
        conn = await asyncpg.connect(
            host=location.hostname, port=location.port, user="audit", database=location.path[1:], **options
        )
        await conn.close()

    asyncio.run(run())


def tls(connection: ConnectionSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(access(connection).ca_location))


def test_postgres_refuses_a_missing_or_wrong_password(connection: ConnectionSettings) -> None:
    with pytest.raises(asyncpg.InvalidPasswordError):
        connect_raw(connection, password="", ssl=tls(connection))
    with pytest.raises(asyncpg.InvalidPasswordError):
        connect_raw(connection, password="not-the-password", ssl=tls(connection))


def test_postgres_refuses_the_right_password_without_tls(connection: ConnectionSettings) -> None:
    password = urlsplit(as_principal("audit").postgres_dsn.get_secret_value()).password
    with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError, match="no encryption"):
        connect_raw(connection, password=password, ssl=False)


def test_every_process_connects_over_tls_as_its_own_role_and_none_is_a_superuser() -> None:
    for name in [OWNER, *(grant.name for grant in load_datastore_grants())]:

        async def who(conn: asyncpg.Connection) -> asyncpg.Record:
            return await conn.fetchrow(
                "SELECT current_user AS role, r.rolsuper, s.ssl FROM pg_roles r, pg_stat_ssl s"
                " WHERE r.rolname = current_user AND s.pid = pg_backend_pid()"
            )

        row = on_database(name, who)
        assert (row["role"], row["rolsuper"], row["ssl"]) == (name, False, True)


def test_audit_reads_the_trail_but_may_not_rewrite_a_link() -> None:
    on_database("audit", lambda conn: conn.fetchval("SELECT count(*) FROM audit_log"))
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        on_database("audit", lambda conn: conn.execute("UPDATE audit_log SET hash = hash"))
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        on_database("audit", lambda conn: conn.execute("DELETE FROM audit_chain_heads"))


def test_act_may_not_touch_the_model_registry_or_create_tables() -> None:
    on_database("act", lambda conn: conn.fetchval("SELECT count(*) FROM act_actions"))
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        on_database("act", lambda conn: conn.execute("UPDATE model_aliases SET version = version"))
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        on_database("act", lambda conn: conn.fetchval("SELECT count(*) FROM model_versions"))
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        on_database("act", lambda conn: conn.execute("CREATE TABLE act_own (id int)"))


def migrate_as(principal: str, database_dsn: str) -> list[Migration]:
    """Run the migrations on `database_dsn`'s database as `principal`'s role (what a service does at start)."""
    location = SecretStr(without_credentials(database_dsn))
    dsn = ConnectionSettings(principal=principal, postgres_dsn=location).postgres_dsn.get_secret_value()

    async def run() -> list[Migration]:
        async with open_pool(dsn, max_size=1) as pool:
            return await migrate(pool)

    return asyncio.run(run())


def test_a_service_finds_a_migrated_schema_but_may_not_migrate_one(migrated_database: str, empty_database: str) -> None:
    assert migrate_as("act", migrated_database) == []
    with pytest.raises(MigrationError, match="may not apply them"):
        migrate_as("act", empty_database)


def test_redis_refuses_no_credentials_and_a_wrong_password(connection: ConnectionSettings) -> None:
    location = without_credentials(connection.redis_url)
    anonymous = redis.Redis.from_url(location, socket_timeout=5)
    with pytest.raises((redis.AuthenticationError, redis.ResponseError)):
        anonymous.get("aios:review:anything")
    wrong = redis.Redis.from_url(location, username="review", password="wrong", socket_timeout=5)
    with pytest.raises(redis.AuthenticationError):
        wrong.ping()


def test_a_redis_user_keeps_to_its_keys_channels_and_commands() -> None:
    review = redis.Redis.from_url(as_principal("review").redis_url, socket_timeout=5)
    review.get("aios:review:signin:account:nobody")
    with pytest.raises(redis.exceptions.NoPermissionError):
        review.get("aios:outcome:some-event")
    outcomes = redis.Redis.from_url(as_principal("outcomes").redis_url, socket_timeout=5)
    outcomes.publish("aios:outcomes", "{}")
    with pytest.raises(redis.exceptions.NoPermissionError):
        outcomes.publish("aios:elsewhere", "{}")
    with pytest.raises(redis.exceptions.NoPermissionError):
        outcomes.flushall()
    act = redis.Redis.from_url(as_principal("act").redis_url, socket_timeout=5)
    with pytest.raises(redis.AuthenticationError):
        act.ping()  # act has no Redis user at all


def test_stack_status_says_the_databases_are_closed(local_stack: LocalStack) -> None:
    assert "PostgreSQL SCRAM over TLS" in local_stack.mode()
    assert "Redis ACL" in local_stack.mode()


def test_outcomes_stores_and_settles_as_its_own_redis_user() -> None:
    """The writer's real round trips (a pipeline of hashes, the settle script in a pipeline) under the outcomes user.

    redis-py checks a pipeline's scripts with SCRIPT EXISTS before running them: a grant without it dead-lettered
    every executed action in the demo while the services' tests, run as the owner, passed.
    """
    client = redis.Redis.from_url(as_principal("outcomes").redis_url, socket_timeout=5)
    writer = OutcomeWriter(client, ttl_s=60)
    event_id = f"grant-{uuid.uuid4().hex}"
    assert writer.add_parts([(event_id, "decision", "{}")]) == {event_id: {"decision": "{}"}}
    dead = Outcome(
        kind="dead_lettered", final=True, dead_letter=DeadLetterOutcome(reason="r", error_kind="k", service="s")
    )
    settled = StoredOutcome(event_id, "t", dead)
    assert writer.settle([settled]) == [settled]


def test_review_may_keep_a_reviewed_document_example() -> None:
    """What a document verdict keeps runs as the review role (a verdict once failed with HTTP 500 under `aios up`,
    "permission denied for table document_examples", while the tests, run as the owner, passed). Past the grants,
    the row is refused only for naming no review item."""

    async def keep(conn: asyncpg.Connection) -> None:
        async with conn.transaction():
            await store_example(conn, EXAMPLE)

    with pytest.raises(asyncpg.ForeignKeyViolationError):
        on_database("review", keep)


EXAMPLE = ReviewedDocument(
    review_id="no-such-review", tenant_id="t", event_id="e", sha256="0" * 64, media_type="application/pdf",
    document_type="invoice", fields={}, line_items=[], corrected=[], extractor_version="v", reviewer="r",
)  # fmt: skip
