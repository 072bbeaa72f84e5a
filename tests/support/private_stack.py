"""A second stack a test may break: PostgreSQL, Redis and (optionally) three Kafka brokers on other ports.

Built from the same parts as `aios stack up --brokers 3`; the schema registry stays the
session's (it keeps its schemas in the session's PostgreSQL, which nothing here touches).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient
from pydantic import SecretStr

from aios.inference.triton_process import free_ports
from aios.kafka.credentials import security_layout
from aios.settings import ConnectionSettings
from aios.stack.errors import ComponentFailedError
from aios.stack.kafka import KafkaCluster, KafkaNode
from aios.stack.postgres import PostgresServer
from aios.stack.redis import RedisServer
from aios.stack.settings import StackSettings

KAFKA_PORT = 31092
"""Brokers on 31092, 31192 and 31292 (controllers one above): below the ephemeral port range, so no
client socket of another test can hold one, and apart from the stack's and other tests' clusters."""


@dataclass
class PrivateStack:
    kafka: KafkaCluster | None
    postgres: PostgresServer
    redis: RedisServer
    connection: ConnectionSettings

    @property
    def cluster(self) -> KafkaCluster:
        assert self.kafka is not None, "this stack uses the shared Kafka"
        return self.kafka

    def leader_of_most_partitions(self) -> KafkaNode:
        """The broker that leads the most partitions of all topics (consumer offsets included)."""
        metadata = AdminClient(self.cluster.client_config()).list_topics(timeout=30)
        leaders = [p.leader for t in metadata.topics.values() for p in t.partitions.values()]
        return max(self.cluster.nodes, key=lambda node: leaders.count(node.node_id))

    def kill_broker(self, node: KafkaNode) -> None:
        self.cluster.process(node).kill()

    def start_broker(self, node: KafkaNode) -> None:
        self.cluster.process(node).start()
        self.cluster.process(node).wait_until(self.cluster.healthy, 120, "serving metadata with every broker")

    def stop_postgres(self) -> None:
        """A fast shutdown (SIGINT: sessions are cut, the server stops at once)."""
        process = self.postgres.process()
        pid = process.pid()
        assert pid is not None
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + 60
        while process.is_running():
            assert time.monotonic() < deadline, process.log_tail()
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # we may be its parent: do not leave a zombie
            time.sleep(0.2)

    def start_postgres(self) -> None:
        self.postgres.start()

    def restart_postgres(self, down_s: float) -> None:
        self.stop_postgres()
        time.sleep(down_s)
        self.start_postgres()

    def stop_redis(self) -> None:
        self.redis.stop()

    def start_redis(self) -> None:
        self.redis.start()


def private_settings(root: Path, **layout: Any) -> StackSettings:
    """A stack under `root` in the session stack's security mode, with its CA and principals.

    The session's clients (and the shared registry's users) then work against it unchanged.
    """
    shared = security_layout().directory
    if shared.exists():
        shutil.copytree(shared, security_layout(root).directory)
    return StackSettings(state_dir=root, security=shared.exists(), **layout)


@contextmanager
def private_stack(shared: ConnectionSettings, brokers: int = 3) -> Iterator[PrivateStack]:
    """PostgreSQL, Redis and (unless `brokers` is 0: then `shared`'s Kafka) a Kafka cluster of the test's own."""
    # PostgreSQL runs as its own OS user: its state must be reachable by that user.
    root = Path(tempfile.mkdtemp(prefix="aios-private-stack-"))
    root.chmod(0o755)
    postgres_port, redis_port = free_ports(2)
    settings = private_settings(
        root,
        kafka_port=KAFKA_PORT,
        postgres_port=postgres_port,
        redis_port=redis_port,
        kafka_heap="384m",
        start_timeout_s=120,
    )
    kafka = KafkaCluster(settings, brokers) if brokers else None
    postgres, redis = PostgresServer(settings), RedisServer(settings)
    started: list[KafkaCluster | PostgresServer | RedisServer] = []
    try:
        for component in (kafka, postgres, redis):
            if component is not None:
                started.append(component)  # a cluster that half started is stopped too
                _start(component, kafka)
        connection = shared.model_copy(
            update={
                "kafka_bootstrap": kafka.bootstrap if kafka else shared.kafka_bootstrap,
                "postgres_dsn": SecretStr(postgres.dsn),
                "redis_url": redis.url,
            }
        )
        yield PrivateStack(kafka, postgres, redis, connection)
    finally:
        for component in reversed(started):
            component.stop()
        shutil.rmtree(root, ignore_errors=True)


def _start(component: KafkaCluster | PostgresServer | RedisServer, kafka: KafkaCluster | None) -> None:
    """Start one component; a cluster that fails says what each of its brokers logged last."""
    try:
        component.start()
    except ComponentFailedError as exc:
        if component is not kafka or kafka is None:
            raise
        logs = "\n".join(f"--- kafka-{n.node_id}\n{kafka.process(n).log_tail(15)}" for n in kafka.nodes)
        raise ComponentFailedError(exc.component, "did not start", logs) from exc
