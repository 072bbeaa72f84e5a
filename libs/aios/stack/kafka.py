"""Apache Kafka in KRaft mode from Maven-resolved jars: one combined node, or three for replication."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient

from aios.kafka.clients import SASL_MECHANISM, Access
from aios.kafka.credentials import (
    ADMIN,
    BROKER,
    CertificateFiles,
    ensure_principals,
    load_passwords,
    security_layout,
)
from aios.paths import infra_dir
from aios.stack.certificates import BROKER_COMMON_NAME, ensure_certificates
from aios.stack.errors import MissingToolError, StackError
from aios.stack.process import ManagedProcess
from aios.stack.settings import StackSettings

KAFKA_MAIN = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"


def kafka_pom() -> Path:
    return infra_dir() / "kafka" / "pom.xml"


def kafka_version() -> str:
    """The version pinned in the pom, for `stack status`."""
    text = kafka_pom().read_text()
    start = text.index("<kafka.version>") + len("<kafka.version>")
    return text[start : text.index("</kafka.version>")]


def apache_kafka_available() -> bool:
    """Java and Maven are installed: run Apache Kafka (Tansu is only the fallback)."""
    return shutil.which("java") is not None and shutil.which("mvn") is not None


def resolve_jars(cache_dir: Path) -> Path:
    """Copy Kafka and its runtime dependencies from Maven Central into a cache keyed by the pom."""
    pom = kafka_pom()
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:12]
    target = cache_dir / "kafka-jars" / digest
    if (target / ".complete").exists():
        return target
    if shutil.which("mvn") is None:
        raise MissingToolError("mvn (Maven) is needed to resolve the Kafka jars")
    target.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={target}",
            "-DincludeScope=runtime",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise StackError(f"Maven could not resolve Kafka:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    (target / ".complete").touch()
    return target


@dataclass(frozen=True)
class KafkaNode:
    """One combined broker+controller node of the local cluster."""

    node_id: int
    host: str
    port: int
    data_dir: Path

    @property
    def controller_port(self) -> int:
        return self.port + 1

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class KafkaCluster:
    """The local Kafka cluster: `brokers` combined nodes sharing a static KRaft voter set."""

    name = "kafka"

    def __init__(self, settings: StackSettings, brokers: int) -> None:
        if brokers not in (1, 3):
            raise StackError("the local stack runs 1 or 3 Kafka brokers")
        self.settings = settings
        self.brokers = brokers
        self.root = settings.state_dir / "kafka"
        self.layout = security_layout(settings.state_dir)
        self.nodes = [
            KafkaNode(n, settings.host, settings.kafka_port + 100 * (n - 1), self.root / f"node-{n}")
            for n in range(1, brokers + 1)
        ]

    @property
    def bootstrap(self) -> str:
        return ",".join(node.address for node in self.nodes)

    @property
    def replication_factor(self) -> int:
        return min(3, self.brokers)

    @property
    def min_insync_replicas(self) -> int:
        return 1 if self.brokers == 1 else 2

    @property
    def secure(self) -> bool:
        """The mode Kafka's storage was formatted in, else the setting (a formatted cluster keeps its mode)."""
        layout = self.root / "cluster.json"
        if layout.exists():
            return bool(json.loads(layout.read_text()).get("security", False))
        return self.settings.security

    @property
    def access(self) -> Access:
        """The admin principal of this cluster (nothing on a PLAINTEXT one)."""
        if not self.secure:
            return Access(secure=False)
        password = load_passwords(self.layout.principals).get(ADMIN, "")
        return Access(secure=True, principal=ADMIN, password=password, ca_location=self.layout.certificates.ca)

    def client_config(self) -> dict[str, Any]:
        return self.access.kafka_config(self.bootstrap)

    def describe(self) -> str:
        return f"apache-kafka {kafka_version()} (KRaft, {self.brokers} node{'s' * (self.brokers > 1)})"

    def process(self, node: KafkaNode) -> ManagedProcess:
        return ManagedProcess(
            name=f"kafka-{node.node_id}",
            argv=[
                "java",
                f"-Xmx{self.settings.kafka_heap}",
                f"-Xms{self.settings.kafka_heap}",
                "-XX:+UseG1GC",
                "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={infra_dir() / 'kafka' / 'log4j2.yaml'}",
                "-cp",
                f"{self._jar_dir()}/*",
                KAFKA_MAIN,
                str(node.data_dir / "server.properties"),
            ],
            state_dir=self.settings.state_dir / "logs",
            ports=[(node.host, node.port), (node.host, node.controller_port)],
        )

    def _jar_dir(self) -> Path:
        """The jar folder `prepare` resolved (only the pid matters to a process not yet prepared)."""
        marker = self.root / "jars"
        return Path(marker.read_text().strip()) if marker.exists() else self.settings.cache_dir

    def prepare(self) -> None:
        """Resolve jars, write each node's properties and format its storage once."""
        if shutil.which("java") is None:
            raise MissingToolError("java is needed to run Apache Kafka")
        self.root.mkdir(parents=True, exist_ok=True)
        layout = self.root / "cluster.json"
        if layout.exists():
            recorded = json.loads(layout.read_text())
            if recorded["brokers"] != self.brokers:
                raise StackError(
                    f"the stack's Kafka has {recorded['brokers']} broker(s); "
                    "run `aios stack down --purge` before changing --brokers"
                )
            cluster_id = recorded["cluster_id"]
        else:
            cluster_id = _kraft_cluster_id()
        secure = self.secure
        if secure:
            ensure_certificates(self.layout.certificates, [self.settings.host])
            ensure_principals(self.layout, [ADMIN, BROKER])
        jars = resolve_jars(self.settings.cache_dir)
        (self.root / "jars").write_text(str(jars))
        for node in self.nodes:
            node.data_dir.mkdir(parents=True, exist_ok=True)
            properties = node.data_dir / "server.properties"
            properties.write_text(self._properties(node, secure))
            properties.chmod(0o600)
            if not (node.data_dir / "log" / "meta.properties").exists():
                self._format(node, cluster_id, jars, secure)
        layout.write_text(json.dumps({"brokers": self.brokers, "cluster_id": cluster_id, "security": secure}))

    def _properties(self, node: KafkaNode, secure: bool) -> str:
        voters = ",".join(f"{n.node_id}@{n.host}:{n.controller_port}" for n in self.nodes)
        rf = self.replication_factor
        client = "CLIENT" if secure else "PLAINTEXT"
        props: dict[str, object] = {
            "process.roles": "broker,controller",
            "node.id": node.node_id,
            "controller.quorum.voters": voters,
            "listeners": f"{client}://{node.address},CONTROLLER://{node.host}:{node.controller_port}",
            "advertised.listeners": f"{client}://{node.address}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": client,
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": node.data_dir / "log",
            "num.partitions": 3,
            "default.replication.factor": rf,
            "min.insync.replicas": self.min_insync_replicas,
            "offsets.topic.replication.factor": rf,
            "transaction.state.log.replication.factor": rf,
            "transaction.state.log.min.isr": self.min_insync_replicas,
            "share.coordinator.state.topic.replication.factor": rf,
            "share.coordinator.state.topic.min.isr": self.min_insync_replicas,
            # Topics are declared in infra/topics.yaml; a typo must not create a new one.
            "auto.create.topics.enable": "false",
            "unclean.leader.election.enable": "false",
            "group.initial.rebalance.delay.ms": 0,
        }
        if secure:
            props.update(self._security_properties())
        return "".join(f"{key}={value}\n" for key, value in props.items())

    def _security_properties(self) -> dict[str, object]:
        return broker_security_properties(self.layout.certificates, load_passwords(self.layout.principals)[BROKER])

    def _format(self, node: KafkaNode, cluster_id: str, jars: Path, secure: bool) -> None:
        scram = scram_format_arguments(load_passwords(self.layout.principals) if secure else {})
        result = subprocess.run(
            [
                "java",
                "-cp",
                f"{jars}/*",
                STORAGE_TOOL,
                "format",
                "--ignore-formatted",
                "-t",
                cluster_id,
                "-c",
                str(node.data_dir / "server.properties"),
                *scram,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"formatting Kafka storage of node {node.node_id} failed:\n{result.stdout}{result.stderr}")

    def start(self) -> None:
        self.prepare()
        for node in self.nodes:
            self.process(node).start()
        self.process(self.nodes[0]).wait_until(
            self.healthy, self.settings.start_timeout_s, "serving metadata with every broker"
        )

    def healthy(self) -> bool:
        """Every broker is registered and answers metadata requests.

        A closed cluster whose admin password was never made here (a fresh checkout) is not running.
        """
        access = self.access
        if access.secure and not access.password:
            return False
        admin = AdminClient({**access.kafka_config(self.bootstrap), "socket.timeout.ms": 2000, "log_level": 0})
        try:
            metadata = admin.list_topics(timeout=2)
        except Exception:
            return False
        return len(metadata.brokers) == self.brokers

    def stop(self) -> None:
        for node in reversed(self.nodes):
            self.process(node).stop(timeout=30)

    def running(self) -> list[bool]:
        return [self.process(node).is_running() for node in self.nodes]

    def endpoints(self) -> dict[str, str]:
        return {"kafka_bootstrap": self.bootstrap, "broker": self.describe()}


def broker_security_properties(files: CertificateFiles, broker_password: str) -> dict[str, object]:
    """SCRAM over TLS for clients and between brokers, mutual TLS to the controllers, deny by default.

    A module function, not a method, so every deployment of the brokers (the local stack, a compose
    deployment's generated files) takes its security properties from this one place.
    """
    return {
        "listener.security.protocol.map": "CONTROLLER:SSL,CLIENT:SASL_SSL",
        "sasl.enabled.mechanisms": SASL_MECHANISM,
        "sasl.mechanism.inter.broker.protocol": SASL_MECHANISM,
        "listener.name.client.scram-sha-512.sasl.jaas.config": (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{BROKER}" password="{broker_password}";'
        ),
        "listener.name.controller.ssl.client.auth": "required",
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": files.broker,
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": files.ca,
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{ADMIN};User:{BROKER};User:CN={BROKER_COMMON_NAME}",
    }


def scram_format_arguments(passwords: dict[str, str]) -> list[str]:
    """`kafka-storage format` arguments that create the admin and broker SCRAM users with the storage.

    They exist from the first start: nothing can create them later over a listener that already demands them.
    """
    return [
        argument
        for name in (ADMIN, BROKER)
        if name in passwords
        for argument in ("--add-scram", f"{SASL_MECHANISM}=[name={name},password={passwords[name]}]")
    ]


def _kraft_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (what StorageTool makes)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def recorded_brokers(settings: StackSettings) -> int | None:
    """How many brokers the stack's Kafka was formatted with, if it exists."""
    layout = settings.state_dir / "kafka" / "cluster.json"
    if not layout.exists():
        return None
    return int(json.loads(layout.read_text())["brokers"])
