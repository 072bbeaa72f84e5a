"""Jaeger, built once from the Go module proxy into the cache: the stack's trace store, query API and UI.

Every service exports its spans to Jaeger's OTLP receiver by default (`TracingSettings`), so one
event's trace can be read back whole (`aios trace EVENT_ID`). Traces are kept in memory: they are
for looking at what just happened, the audit trail is the record.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from aios.paths import infra_dir
from aios.stack.gobuild import build_go_program
from aios.stack.process import ManagedProcess
from aios.stack.settings import StackSettings

JAEGER_MODULE = "github.com/jaegertracing/jaeger"
JAEGER_RELEASE = "v1.76.0"
"""The Go module version built locally; the same release is Jaeger v2.13.0, the image docker-compose runs."""
JAEGER_IMAGE = "jaegertracing/jaeger:2.13.0"


def jaeger_binary(cache_dir: Path) -> Path:
    return cache_dir / "jaeger" / JAEGER_RELEASE / "jaeger"


def build_jaeger(cache_dir: Path) -> Path:
    """`cmd/jaeger` of the pinned release, built into the cache unless it is there already."""
    return build_go_program(JAEGER_MODULE, JAEGER_RELEASE, "./cmd/jaeger", jaeger_binary(cache_dir))


class JaegerServer:
    """Jaeger v2 with infra/jaeger/jaeger.yaml: OTLP receivers and the query API on loopback ports."""

    name = "jaeger"

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings

    @property
    def url(self) -> str:
        """The query API and UI."""
        return f"http://{self.settings.host}:{self.settings.jaeger_query_port}"

    @property
    def otlp_endpoint(self) -> str:
        """Where services send spans (OTLP/HTTP)."""
        return f"http://{self.settings.host}:{self.settings.jaeger_otlp_port}"

    def process(self) -> ManagedProcess:
        host, otlp, query = self.settings.host, self.settings.jaeger_otlp_port, self.settings.jaeger_query_port
        return ManagedProcess(
            name=self.name,
            argv=[str(jaeger_binary(self.settings.cache_dir)), f"--config={infra_dir() / 'jaeger' / 'jaeger.yaml'}"],
            state_dir=self.settings.state_dir / "logs",
            env={
                "JAEGER_OTLP_HTTP": f"{host}:{otlp}",
                "JAEGER_OTLP_GRPC": f"{host}:{otlp - 1}",
                "JAEGER_QUERY_HTTP": f"{host}:{query}",
                "JAEGER_QUERY_GRPC": f"{host}:{query - 1}",
            },
            ports=[(host, otlp), (host, otlp - 1), (host, query), (host, query - 1)],
        )

    def start(self) -> None:
        build_jaeger(self.settings.cache_dir)
        process = self.process()
        process.start()
        process.wait_until(self.healthy, self.settings.start_timeout_s, "answering queries")

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/services", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        self.process().stop()

    def endpoints(self) -> dict[str, str]:
        return {"jaeger_url": self.url, "jaeger_otlp_endpoint": self.otlp_endpoint}
