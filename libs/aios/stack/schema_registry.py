"""The schema registry as a stack component: `python -m services.schema_registry` (logic in `aios.schema_registry`)."""

from __future__ import annotations

import sys
from collections.abc import Callable

import httpx

from aios.kafka.clients import Access
from aios.kafka.credentials import security_layout
from aios.stack.process import ManagedProcess
from aios.stack.settings import StackSettings


class SchemaRegistryServer:
    name = "schema-registry"

    def __init__(self, settings: StackSettings, postgres_dsn: Callable[[], str], admin: Callable[[], Access]) -> None:
        self.settings = settings
        self.postgres_dsn = postgres_dsn
        """Its own database's DSN, read at start: the role's password exists once PostgreSQL has started."""
        self.admin = admin
        """The admin principal (once Kafka made it), which alone may write; auth is on exactly when it is secure."""

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.registry_port}"

    def client_config(self) -> dict[str, str]:
        """A `SchemaRegistryClient` config of the admin principal."""
        return {"url": self.url, **self.admin().registry()}

    def process(self) -> ManagedProcess:
        users = {"AIOS_REGISTRY_USERS_FILE": str(security_layout(self.settings.state_dir).registry_users)}
        return ManagedProcess(
            name=self.name,
            argv=[sys.executable, "-m", "services.schema_registry"],
            state_dir=self.settings.state_dir / "logs",
            ports=[(self.settings.host, self.settings.registry_port)],
            env={
                "AIOS_REGISTRY_HOST": self.settings.host,
                "AIOS_REGISTRY_PORT": str(self.settings.registry_port),
                "AIOS_REGISTRY_POSTGRES_DSN": self.postgres_dsn(),
                **(users if self.admin().secure else {}),
            },
        )

    def start(self) -> None:
        process = self.process()
        process.start()
        process.wait_until(self.healthy, self.settings.start_timeout_s, "healthy")

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        self.process().stop()

    def endpoints(self) -> dict[str, str]:
        return {"schema_registry_url": self.url}
