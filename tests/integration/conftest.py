"""The real local stack for integration tests: reused when running, else started for the session.

A developer with `aios stack up` running gets fast tests against it; CI (a clean checkout) gets a
stack started here and stopped at the end. Every test works on its own topics and consumer
groups (`topics` fixture), so tests neither see nor disturb each other or the demo's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest

from aios.access.roles import issue_credential
from aios.db.scratch import scratch_database
from aios.inference.training import TrainResult
from aios.kafka.scratch import ScratchTopics
from aios.settings import ConnectionSettings
from aios.stack.stack import LocalStack
from tests.support.tiny_models import ClincSubset, clinc_subset, train_versions


@pytest.fixture(scope="session", autouse=True)
def admin_credential() -> Iterator[None]:
    """Every `aios` the tests run may do admin actions, as an operator with an admin credential would;
    tests of the refusals run without it."""
    os.environ["AIOS_CREDENTIAL"] = issue_credential("integration-tests", "admin")
    yield
    os.environ.pop("AIOS_CREDENTIAL", None)


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    """The running stack, its missing components started here and only those stopped at the end.

    A stack started before a component was added (Jaeger) gets that component for the session,
    and everyone else's stack keeps running afterwards.
    """
    stack = LocalStack()
    started_here = [c for c in stack.components if not c.healthy()]
    try:
        stack.up()
        yield stack
    finally:
        for component in reversed(started_here):
            component.stop()


@pytest.fixture(scope="session")
def connection(local_stack: LocalStack) -> ConnectionSettings:
    endpoints = local_stack.endpoints()
    return ConnectionSettings(
        kafka_bootstrap=endpoints["kafka_bootstrap"], schema_registry_url=endpoints["schema_registry_url"]
    )


@pytest.fixture(scope="session")
def schema_registry_url(connection: ConnectionSettings) -> str:
    return connection.schema_registry_url


@pytest.fixture(scope="session")
def kafka_bootstrap(connection: ConnectionSettings) -> str:
    return connection.kafka_bootstrap


TopicFactory = Callable[..., str]


@pytest.fixture
def topics(kafka_bootstrap: str, schema_registry_url: str) -> Iterator[TopicFactory]:
    """Make private topics that carry a catalogue topic's schema; deleted after the test.

    `topics("aios.events.received", partitions=3)` returns a fresh topic name whose subject
    holds the same schema, so codecs built with `carries` encode and decode it.
    """
    with ScratchTopics(kafka_bootstrap, schema_registry_url) as scratch:
        yield scratch.make


@pytest.fixture
def empty_database(connection: ConnectionSettings) -> Iterator[str]:
    """DSN of a new, empty database, dropped after the test: nothing another test left behind is in it."""
    with scratch_database(connection.postgres_dsn.get_secret_value(), "aios_test", migrated=False) as dsn:
        yield dsn


@pytest.fixture
def migrated_database(connection: ConnectionSettings) -> Iterator[str]:
    """A new database with every migration applied, dropped after the test."""
    with scratch_database(connection.postgres_dsn.get_secret_value(), "aios_test") as dsn:
        yield dsn


@pytest.fixture(scope="module")
def module_database(connection: ConnectionSettings) -> Iterator[str]:
    """A migrated database shared by one test module (for services started once per module)."""
    with scratch_database(connection.postgres_dsn.get_secret_value(), "aios_test") as dsn:
        yield dsn


@pytest.fixture(scope="session")
def clinc_small() -> ClincSubset:
    return clinc_subset()


@pytest.fixture(scope="session")
def tiny_versions(clinc_small: ClincSubset) -> list[TrainResult]:
    """Two small classifiers of the same labels (seeds 0 and 1), trained once per session."""
    return train_versions(clinc_small)


@pytest.fixture
def group_id() -> str:
    return f"test-group-{uuid.uuid4().hex[:10]}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration talks to the real stack."""
    for item in items:
        if "tests/integration/" in str(item.path):
            item.add_marker(pytest.mark.integration)
