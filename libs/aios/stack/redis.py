"""A private Redis instance with an append-only file under the stack's state folder."""

from __future__ import annotations

import shutil

import redis

from aios.stack.errors import MissingToolError
from aios.stack.process import ManagedProcess
from aios.stack.settings import StackSettings


class RedisServer:
    name = "redis"

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.data_dir = settings.state_dir / "redis"

    @property
    def url(self) -> str:
        return f"redis://{self.settings.host}:{self.settings.redis_port}/0"

    def process(self) -> ManagedProcess:
        binary = shutil.which("redis-server") or "redis-server"
        return ManagedProcess(
            name=self.name,
            argv=[
                binary,
                "--bind",
                self.settings.host,
                "--port",
                str(self.settings.redis_port),
                "--dir",
                str(self.data_dir),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--daemonize",
                "no",
            ],
            state_dir=self.settings.state_dir / "logs",
            ports=[(self.settings.host, self.settings.redis_port)],
        )

    def start(self) -> None:
        if shutil.which("redis-server") is None:
            raise MissingToolError("redis-server is not installed (apt-get install redis-server)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        process = self.process()
        process.start()
        process.wait_until(self.healthy, self.settings.start_timeout_s, "answering PING")

    def healthy(self) -> bool:
        try:
            client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
            return bool(client.ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        self.process().stop()

    def endpoints(self) -> dict[str, str]:
        return {"redis_url": self.url}
