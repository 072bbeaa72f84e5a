"""A private Prometheus scraping one test pipeline's services, and a lag exporter of its consumer groups."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from aios.inference.triton_process import free_ports
from aios.stack.prometheus import PrometheusServer
from aios.stack.settings import StackSettings
from tests.support.pipeline import Pipeline
from tests.support.services import ServiceProcess


@dataclass(frozen=True)
class Scraping:
    prometheus_url: str
    lag_exporter: ServiceProcess | None


@contextmanager
def private_prometheus(pipeline: Pipeline, root: Path, *, lag_exporter: bool = True) -> Iterator[Scraping]:
    """Prometheus on a free port scraping every service of `pipeline` (started before its services run).

    With `lag_exporter`, `services.lag_exporter` reports the pipeline's groups every 2 s and is scraped too.
    """
    prometheus = PrometheusServer(
        StackSettings(state_dir=root / "prometheus", prometheus_port=free_ports(1)[0], start_timeout_s=60)
    )
    targets = {f"127.0.0.1:{port}": {"service": name} for name, port in pipeline.ports.items()}
    exporter = None
    if lag_exporter:
        lag_port = free_ports(1)[0]
        exporter = ServiceProcess(
            "services.lag_exporter",
            {
                **pipeline.envs["act"],
                "AIOS_LAG_EXPORTER_METRICS_PORT": str(lag_port),
                "AIOS_LAG_EXPORTER_GROUPS": f"pipeline-{pipeline.run}-.*|{pipeline.decide.app_id}",
                "AIOS_LAG_EXPORTER_INTERVAL_S": "2",
            },
            root / "lag-exporter.log",
        )
        targets[f"127.0.0.1:{lag_port}"] = {"service": "lag-exporter"}
    try:
        prometheus.start()
        prometheus.write_targets("services", targets)
        yield Scraping(prometheus.url, exporter)
    finally:
        if exporter is not None:
            exporter.stop()
        prometheus.stop()
