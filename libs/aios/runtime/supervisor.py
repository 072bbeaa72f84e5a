"""The services as supervised background processes (supervisord), found again by `aios ps`.

supervisord restarts a crashed service, keeps one log per process and stops them with SIGTERM,
which the consumer loop turns into "finish the batch, commit, exit 0".
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from supervisor.xmlrpc import SupervisorTransport

from aios.datastores import without_credentials
from aios.paths import project_root
from aios.runtime.catalog import ServiceSpec, load_services
from aios.runtime.probes import answers_ok
from aios.settings import ConnectionSettings
from aios.stack.errors import StackError
from aios.stack.process import ManagedProcess
from aios.stack.settings import StackSettings
from aios.stack.stack import LocalStack


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    service: str
    state: str
    pid: int
    port: int
    healthy: bool
    log_file: str


class Supervisor:
    def __init__(self, settings: StackSettings | None = None) -> None:
        self.settings = settings or StackSettings()
        self.root = self.settings.state_dir / "supervisor"
        self.logs = self.settings.state_dir / "logs"

    @property
    def config_file(self) -> Path:
        return self.root / "supervisord.conf"

    @property
    def socket(self) -> Path:
        return self.root / "supervisor.sock"

    def process(self) -> ManagedProcess:
        binary = shutil.which("supervisord", path=str(Path(sys.executable).parent)) or "supervisord"
        return ManagedProcess("supervisord", [binary, "-n", "-c", str(self.config_file)], self.logs)

    def start(self, services: list[ServiceSpec], connection: dict[str, str]) -> None:
        """Write the config for `services` and make supervisord run exactly those."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(self._config(services, connection))
        process = self.process()
        if process.is_running():
            self._rpc().supervisor.reloadConfig()
            self._ctl("update")
        else:
            self.socket.unlink(missing_ok=True)
            process.start()
            process.wait_until(self._answers, 20, "answering on its socket")

    def shutdown(self) -> None:
        self.process().stop(timeout=60)

    def status(self) -> list[ServiceStatus]:
        if not self.process().is_running():
            return []
        specs = {spec.name: spec for spec in load_services()}
        rows = []
        infos = cast(list[dict[str, Any]], self._rpc().supervisor.getAllProcessInfo())  # XML-RPC structs
        for info in infos:
            spec = specs.get(info["group"])
            index = int(info["name"].rsplit("-", 1)[-1]) if info["name"] != info["group"] else 0
            port = spec.port + index if spec else 0
            healthy = info["statename"] == "RUNNING" and spec is not None and _healthy(port, spec.health_path)
            rows.append(
                ServiceStatus(
                    info["name"], info["group"], info["statename"], info["pid"], port, healthy, info["stdout_logfile"]
                )
            )
        return rows

    def _answers(self) -> bool:
        try:
            self._rpc().supervisor.getState()
        except (OSError, xmlrpc.client.Fault):
            return False
        return True

    def _rpc(self) -> xmlrpc.client.ServerProxy:
        transport = SupervisorTransport(None, None, f"unix://{self.socket}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    def _ctl(self, *args: str) -> None:
        ctl = shutil.which("supervisorctl", path=str(Path(sys.executable).parent)) or "supervisorctl"
        result = subprocess.run([ctl, "-c", str(self.config_file), *args], capture_output=True, text=True, check=False)
        if result.returncode not in (0, 3):  # 3: some process is not running, shown by `aios ps`
            raise StackError(f"supervisorctl {' '.join(args)} failed: {result.stdout}{result.stderr}")

    def _config(self, services: list[ServiceSpec], connection: dict[str, str]) -> str:
        # supervisord expands %(name)s in its values: a literal % (a URL escape) is written %%.
        env = ",".join(f'{key}="{value.replace("%", "%%")}"' for key, value in connection.items())
        lines = [
            "[unix_http_server]",
            f"file={self.socket}",
            "[supervisord]",
            f"logfile={self.logs / 'supervisord-events.log'}",
            f"pidfile={self.root / 'supervisord.pid'}",
            f"directory={project_root()}",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "[supervisorctl]",
            f"serverurl=unix://{self.socket}",
        ]
        for spec in services:
            name = "%(program_name)s-%(process_num)d" if spec.numprocs > 1 else "%(program_name)s"
            lines += [
                f"[program:{spec.name}]",
                f"command={sys.executable} -m {spec.module}",
                f"process_name={name}",
                f"numprocs={spec.numprocs}",
                f'environment={env},AIOS_SERVICE_PORT="{spec.port}",AIOS_SERVICE_INSTANCE="%(process_num)d",'
                f'AIOS_PRINCIPAL="{spec.name}"',
                f"stdout_logfile={self.logs / name}.log",
                "redirect_stderr=true",
                "autorestart=true",
                "startsecs=3",
                "stopsignal=TERM",
                "stopwaitsecs=60",
                "stopasgroup=true",
            ]
        return "\n".join(lines) + "\n"


def _healthy(port: int, path: str) -> bool:
    return answers_ok(f"http://127.0.0.1:{port}{path}")


def connection_environment(connection: ConnectionSettings) -> dict[str, str]:
    """The stack's endpoints as the `AIOS_*` variables every service reads (each adds its own database login)."""
    return {
        "AIOS_KAFKA_BOOTSTRAP": connection.kafka_bootstrap,
        "AIOS_SCHEMA_REGISTRY_URL": connection.schema_registry_url,
        "AIOS_POSTGRES_DSN": without_credentials(connection.postgres_dsn.get_secret_value()),
        "AIOS_REDIS_URL": without_credentials(connection.redis_url),
        "AIOS_PROMETHEUS_URL": connection.prometheus_url,
    }


def service_endpoints(settings: StackSettings) -> dict[str, str]:
    """URLs of the services `aios up` runs that declare an `endpoint` key (e.g. `ingest_url`)."""
    running = {row.service for row in Supervisor(settings).status() if row.state == "RUNNING"}
    return {
        spec.endpoint: f"http://{settings.host}:{spec.port}"
        for spec in load_services()
        if spec.endpoint and spec.name in running
    }


def start_services(stack: LocalStack) -> list[ServiceSpec]:
    """Every service of the catalogue under supervisord against a running stack, scraped by its Prometheus."""
    endpoints = stack.endpoints()
    connection = ConnectionSettings(
        kafka_bootstrap=endpoints["kafka_bootstrap"], schema_registry_url=endpoints["schema_registry_url"]
    )
    services = load_services()
    Supervisor(stack.settings).start(services, {**connection_environment(connection), **stack.client_environment()})
    stack.prometheus.write_targets(
        "services", {f"127.0.0.1:{port}": {"service": spec.name} for spec in services for port in spec.metrics_ports()}
    )
    return services
