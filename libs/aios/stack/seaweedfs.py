"""SeaweedFS, built once from the Go module proxy into the cache: the stack's S3-compatible object store.

Documents' bytes go here, never into Kafka. One `weed server` runs a master, a volume server, a
filer and the S3 gateway, each on a loopback port; the S3 identity is the one `ObjectStoreSettings`
defaults to, so services need no configuration locally and production points them at any S3.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from aios.objects.settings import ObjectStoreSettings
from aios.stack.gobuild import build_go_program
from aios.stack.process import ManagedProcess
from aios.stack.settings import StackSettings

SEAWEEDFS_MODULE = "github.com/seaweedfs/seaweedfs"
SEAWEEDFS_VERSION = "v0.0.0-20261109003541-7506e5f91cd6"
"""The pinned commit of the Go module (SeaweedFS tags are not Go module versions)."""


def seaweedfs_binary(cache_dir: Path) -> Path:
    return cache_dir / "seaweedfs" / SEAWEEDFS_VERSION / "weed"


def build_seaweedfs(cache_dir: Path) -> Path:
    """`weed` of the pinned commit, built into the cache unless it is there (in a copy: the build writes to it)."""
    return build_go_program(
        SEAWEEDFS_MODULE, SEAWEEDFS_VERSION, "./weed", seaweedfs_binary(cache_dir), copy_module=True
    )


class SeaweedFSServer:
    """`weed server -s3` with its data under the stack's state folder."""

    name = "seaweedfs"

    def __init__(self, settings: StackSettings, store: ObjectStoreSettings | None = None) -> None:
        self.settings = settings
        self.store = store or ObjectStoreSettings()

    @property
    def url(self) -> str:
        """The S3 API."""
        return f"http://{self.settings.host}:{self.settings.s3_port}"

    @property
    def data_dir(self) -> Path:
        return self.settings.state_dir / "seaweedfs"

    def process(self) -> ManagedProcess:
        host, s3 = self.settings.host, self.settings.s3_port
        master, volume, filer = s3 + 1, s3 + 2, s3 + 3
        return ManagedProcess(
            name=self.name,
            argv=[
                str(seaweedfs_binary(self.settings.cache_dir)),
                "server",
                f"-dir={self.data_dir}",
                f"-ip={host}",
                f"-ip.bind={host}",
                f"-master.port={master}",
                "-master.volumeSizeLimitMB=256",
                f"-volume.port={volume}",
                "-filer",
                f"-filer.port={filer}",
                "-s3",
                f"-s3.port={s3}",
                f"-s3.config={self.data_dir / 's3.json'}",
            ],
            state_dir=self.settings.state_dir / "logs",
            # gRPC listens on each port + 10000, SeaweedFS's convention.
            ports=[(host, port) for base in (s3, master, volume, filer) for port in (base, base + 10000)],
        )

    def start(self) -> None:
        build_seaweedfs(self.settings.cache_dir)
        process = self.process()
        if process.is_running():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "s3.json").write_text(json.dumps(self._identities(), indent=2))
        process.start()
        process.wait_until(self.healthy, self.settings.start_timeout_s, "serving S3")

    def _identities(self) -> dict[str, object]:
        """The one S3 identity the services use, with the store's default credentials."""
        secret = self.store.secret_access_key
        return {
            "identities": [
                {
                    "name": "aios",
                    "credentials": [
                        {
                            "accessKey": self.store.access_key_id,
                            "secretKey": secret.get_secret_value() if secret else "",
                        }
                    ],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        self.process().stop()

    def endpoints(self) -> dict[str, str]:
        return {"s3_url": self.url}
