"""A private Prometheus that scrapes whatever the stack registers as targets (file service discovery)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx

from aios.paths import infra_dir
from aios.stack.errors import MissingToolError
from aios.stack.process import ManagedProcess
from aios.stack.settings import StackSettings


class PrometheusServer:
    name = "prometheus"

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.root = settings.state_dir / "prometheus"

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.prometheus_port}"

    @property
    def targets_dir(self) -> Path:
        return self.root / "targets"

    def process(self) -> ManagedProcess:
        binary = shutil.which("prometheus") or "prometheus"
        return ManagedProcess(
            name=self.name,
            argv=[
                binary,
                f"--config.file={self.root / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.root / 'data'}",
                f"--web.listen-address={self.settings.host}:{self.settings.prometheus_port}",
                # No --web.enable-lifecycle: it lets anyone who reaches the port stop Prometheus (/-/quit).
                "--storage.tsdb.retention.time=2d",
                # Latency histograms carry trace ids (OpenMetrics exemplars); the Overview's panels show them.
                "--enable-feature=exemplar-storage",
            ],
            state_dir=self.settings.state_dir / "logs",
            ports=[(self.settings.host, self.settings.prometheus_port)],
        )

    def start(self) -> None:
        if shutil.which("prometheus") is None:
            raise MissingToolError("prometheus is not installed (apt-get install prometheus)")
        self.targets_dir.mkdir(parents=True, exist_ok=True)
        config = (infra_dir() / "prometheus" / "prometheus.yml").read_text()
        config = config.replace("127.0.0.1:29090", f"{self.settings.host}:{self.settings.prometheus_port}")
        (self.root / "prometheus.yml").write_text(config)
        rules = self.root / "rules"
        if not rules.is_symlink():
            rules.symlink_to(infra_dir() / "prometheus" / "rules", target_is_directory=True)
        process = self.process()
        process.start()
        process.wait_until(self.healthy, self.settings.start_timeout_s, "ready")

    def write_targets(self, job: str, targets: dict[str, dict[str, str]]) -> None:
        """Scrape `targets` (address -> labels) under one file; Prometheus picks it up in seconds."""
        self.targets_dir.mkdir(parents=True, exist_ok=True)
        groups = [{"targets": [address], "labels": labels} for address, labels in targets.items()]
        path = self.targets_dir / f"{job}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(groups, indent=2))
        tmp.replace(path)

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        self.process().stop()

    def endpoints(self) -> dict[str, str]:
        return {"prometheus_url": self.url}
