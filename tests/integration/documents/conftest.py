"""Documents against the real stack: SeaweedFS, an ingest process and an extract process on private topics and a
database of their own, and tenants to upload with."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from pydantic import SecretStr

from aios.kafka import topics as catalogue
from aios.kafka.scratch import ScratchTopics
from aios.kafka.serde import Codecs
from aios.objects.store import DocumentStore
from aios.settings import ConnectionSettings
from aios.stack.stack import LocalStack
from aios.tenants.store import IssuedKey, IssuedWebhookSecret, TenantStore
from tests.integration.ingest.conftest import IngestProcess
from tests.support.database import call_database
from tests.support.services import ServiceProcess, stack_env


@pytest.fixture(scope="module")
def documents_connection(connection: ConnectionSettings, module_database: str) -> ConnectionSettings:
    """The stack, with the module's own database."""
    return connection.model_copy(update={"postgres_dsn": SecretStr(module_database)})


@pytest.fixture(scope="module")
def store(local_stack: LocalStack) -> DocumentStore:
    assert local_stack.seaweedfs.healthy(), "SeaweedFS is not running: `aios stack up` starts it"
    documents = DocumentStore()
    documents.ensure_bucket()
    return documents


@pytest.fixture(scope="module")
def scratch_topics(connection: ConnectionSettings) -> Iterator[ScratchTopics]:
    with ScratchTopics(connection.kafka_bootstrap, connection.schema_registry_url) as scratch:
        yield scratch


@pytest.fixture(scope="module")
def document_topics(scratch_topics: ScratchTopics) -> dict[str, str]:
    """Private copies of the three topics documents travel on, by catalogue name."""
    return {
        topic.name: scratch_topics.make(topic.name)
        for topic in (catalogue.DOCUMENTS_RECEIVED, catalogue.DOCUMENTS_EXTRACTED, catalogue.EVENTS_RECEIVED)
    }


@pytest.fixture(scope="module")
def codecs(connection: ConnectionSettings, scratch_topics: ScratchTopics, document_topics: dict[str, str]) -> Codecs:
    return Codecs(connection.schema_registry_url, carries=scratch_topics.carries)


@pytest.fixture(scope="module")
def ingest(
    documents_connection: ConnectionSettings,
    document_topics: dict[str, str],
    store: DocumentStore,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[IngestProcess]:
    """Ingest with small limits, so the limits' refusals need no large files."""
    service = IngestProcess(
        documents_connection,
        tmp_path_factory.mktemp("ingest"),
        documents_topic=document_topics[catalogue.DOCUMENTS_RECEIVED.name],
        topic=document_topics[catalogue.EVENTS_RECEIVED.name],
        documents_max_bytes=str(2 * 1024 * 1024),
        documents_max_pages="5",
        quota_rate_per_s="1000",
        quota_burst="2000",
    )
    service.start(ready="/readyz")
    yield service
    service.stop()


ExtractFactory = Callable[..., ServiceProcess]


@pytest.fixture
def start_extract(
    documents_connection: ConnectionSettings, document_topics: dict[str, str], tmp_path: Path
) -> Iterator[ExtractFactory]:
    """Start `python -m services.extract` on the private topics (stopped after the test)."""
    started: list[ServiceProcess] = []
    group = f"extract-{uuid.uuid4().hex[:8]}"

    def start(**settings: str) -> ServiceProcess:
        env = {
            **stack_env(documents_connection, documents_connection.postgres_dsn.get_secret_value()),
            "AIOS_EXTRACT_GROUP_ID": group,
            "AIOS_EXTRACT_METRICS_PORT": "0",
            "AIOS_EXTRACT_INPUT_TOPIC": document_topics[catalogue.DOCUMENTS_RECEIVED.name],
            "AIOS_EXTRACT_EXTRACTED_TOPIC": document_topics[catalogue.DOCUMENTS_EXTRACTED.name],
            "AIOS_EXTRACT_EVENTS_TOPIC": document_topics[catalogue.EVENTS_RECEIVED.name],
            **{f"AIOS_EXTRACT_{key.upper()}": value for key, value in settings.items()},
        }
        process = ServiceProcess("services.extract", env, tmp_path / f"extract-{len(started)}.log")
        started.append(process)
        return process

    yield start
    for process in started:
        if process.running():
            process.stop()


@pytest.fixture
def make_tenant(module_database: str) -> Callable[[], IssuedKey]:
    """Make a new tenant in the module's database."""

    def make() -> IssuedKey:
        async def create(pool: asyncpg.Pool) -> IssuedKey:
            return await TenantStore(pool).create_tenant(f"docs-{uuid.uuid4().hex[:8]}")

        return call_database(module_database, create)

    return make


@pytest.fixture
def tenant(make_tenant: Callable[[], IssuedKey]) -> IssuedKey:
    return make_tenant()


@pytest.fixture
def webhook(module_database: str, tenant: IssuedKey) -> IssuedWebhookSecret:
    async def add(pool: asyncpg.Pool) -> IssuedWebhookSecret:
        return await TenantStore(pool).add_webhook_source(f"scanner-{uuid.uuid4().hex[:8]}", tenant.tenant_id)

    return call_database(module_database, add)
