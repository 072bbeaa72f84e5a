"""A private Redis instance with an append-only file under the stack's state folder.

Closed by default: an ACL file with the default user off, the owner (`admin`, the CLI) and one user per
service of infra/datastore-grants.yaml with only its keys, channels and commands, each with its principal's
password. The file is rewritten on every start and loaded into a running server (`ACL LOAD`); a server
started before security (no ACL file) is restarted once. With security off it runs open, as before.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import redis

from aios.datastores import OWNER, Login, load_datastore_grants, redis_acl_file, redis_url_for
from aios.kafka.credentials import ensure_principals, load_passwords, security_layout
from aios.private_files import write_private
from aios.stack.errors import MissingToolError
from aios.stack.process import ManagedProcess
from aios.stack.settings import StackSettings


class RedisServer:
    name = "redis"

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.data_dir = settings.state_dir / "redis"

    @property
    def location(self) -> str:
        return f"redis://{self.settings.host}:{self.settings.redis_port}/0"

    @property
    def secure(self) -> bool:
        return self.settings.security

    @property
    def acl_file(self) -> Path:
        return self.data_dir / "users.acl"

    @property
    def url(self) -> str:
        """The owner's URL (the CLI, the stack's health check): its password when secure."""
        password = load_passwords(security_layout(self.settings.state_dir).principals).get(OWNER, "")
        return redis_url_for(self.location, Login(self.secure, OWNER, password))

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
                *(["--aclfile", str(self.acl_file)] if self.secure else []),
            ],
            state_dir=self.settings.state_dir / "logs",
            ports=[(self.settings.host, self.settings.redis_port)],
        )

    def start(self) -> None:
        if shutil.which("redis-server") is None:
            raise MissingToolError("redis-server is not installed (apt-get install redis-server)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.secure:
            self._write_acl_file()
        process = self.process()
        if process.is_running() and not self._reload_acl():
            process.stop()  # started open, before security: once more, with the ACL file
        process.start()
        process.wait_until(self.healthy, self.settings.start_timeout_s, "answering PING")

    def _write_acl_file(self) -> None:
        grants = load_datastore_grants()
        layout = security_layout(self.settings.state_dir)
        passwords = ensure_principals(layout, [OWNER, *(grant.name for grant in grants)])
        write_private(self.acl_file, redis_acl_file(grants, passwords).encode(), replace=True)

    def _reload_acl(self) -> bool:
        """A running server takes the rewritten file (`ACL LOAD`); False when it runs open or refuses the owner."""
        if not self.secure:
            return True
        try:
            client = redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)
            client.execute_command("ACL", "LOAD")
            return True
        except redis.RedisError:
            return False

    def healthy(self) -> bool:
        try:
            client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
            return bool(client.ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        self.process().stop()

    def endpoints(self) -> dict[str, str]:
        """Where Redis is, without credentials: each client adds its own principal's."""
        return {"redis_url": self.location}
