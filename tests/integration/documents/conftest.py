"""Documents against the real stack: SeaweedFS, an ingest process and an extract process on private topics and a
database of their own, and tenants to upload with."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import boto3
import pytest
from botocore.config import Config
from pydantic import SecretStr

from aios.kafka import topics as catalogue
from aios.kafka.scratch import ScratchTopics
from aios.kafka.serde import Codecs
from aios.keys.documents import sealed_store
from aios.objects.settings import ObjectStoreSettings
from aios.objects.store import DocumentStore, StoredObject
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


T = TypeVar("T")


@dataclass(frozen=True)
class Documents:
    """The sealed document store over one database's data keys, for synchronous tests; `s3` is a plain S3 client
    of the same bucket, which sees what is at rest."""

    dsn: str
    settings: ObjectStoreSettings = field(default_factory=ObjectStoreSettings)

    def call(self, work: Callable[[DocumentStore], Awaitable[T]]) -> T:
        """`work` on a store with a fresh pool and nothing cached: its data keys are unwrapped from the table."""
        return call_database(self.dsn, lambda pool: work(sealed_store(pool, self.settings)))

    def put(self, tenant_id: str, data: bytes, media_type: str = "application/pdf") -> StoredObject:
        return self.call(lambda store: store.put(tenant_id, data, media_type))

    def get(self, tenant_id: str, sha256: str) -> bytes:
        return self.call(lambda store: store.get(tenant_id, sha256))

    @property
    def bucket(self) -> str:
        return self.settings.bucket

    @property
    def s3(self) -> Any:
        secret = self.settings.secret_access_key
        return boto3.client(
            "s3",
            endpoint_url=self.settings.endpoint_url,
            region_name=self.settings.region,
            aws_access_key_id=self.settings.access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret is not None else None,
            config=Config(s3={"addressing_style": "path"}),
        )


@pytest.fixture(scope="module")
def store(local_stack: LocalStack, module_database: str) -> Documents:
    """Documents sealed under the data keys of the module's database (ingest's and extract's)."""
    assert local_stack.seaweedfs.healthy(), "SeaweedFS is not running: `aios stack up` starts it"
    documents = Documents(module_database)
    documents.call(lambda store: asyncio.to_thread(store.ensure_bucket))
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
    store: Documents,
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
