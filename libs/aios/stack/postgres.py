"""A private PostgreSQL cluster made with initdb under the stack's state folder."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from aios.stack.errors import MissingToolError, StackError
from aios.stack.process import ManagedProcess, chown_to
from aios.stack.settings import StackSettings

DATABASE = "aios"
SUPERUSER = "aios"


def postgres_bindir() -> Path:
    """The newest installed server's bin folder (Debian keeps them versioned)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if candidates:
        return candidates[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise MissingToolError("PostgreSQL server binaries (initdb, postgres) are not installed")
    return Path(initdb).parent


class PostgresServer:
    name = "postgres"

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.root = settings.state_dir / "postgres"
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "run"

    @property
    def dsn(self) -> str:
        return f"postgresql://{SUPERUSER}@{self.settings.host}:{self.settings.postgres_port}/{DATABASE}"

    @property
    def _run_as(self) -> str:
        return self.settings.postgres_user

    def process(self) -> ManagedProcess:
        return ManagedProcess(
            name=self.name,
            argv=[
                str(postgres_bindir() / "postgres"),
                "-D",
                str(self.data_dir),
                "-p",
                str(self.settings.postgres_port),
                "-h",
                self.settings.host,
                "-k",
                str(self.socket_dir),
                # Local stack only: an OS crash may lose data, a killed server does not.
                "-c",
                "fsync=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ],
            state_dir=self.settings.state_dir / "logs",
            ports=[(self.settings.host, self.settings.postgres_port)],
            run_as=self._run_as,
        )

    def start(self) -> None:
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        process = self.process()
        process.start()
        process.wait_until(self.healthy, self.settings.start_timeout_s, "accepting connections")
        self._create_database()

    def _initdb(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        chown_to(self.root, self._run_as)
        self._run(
            [
                str(postgres_bindir() / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            as_owner=True,
        )

    def _create_database(self) -> None:
        psql = [
            str(postgres_bindir() / "psql"),
            "-h",
            self.settings.host,
            "-p",
            str(self.settings.postgres_port),
            "-U",
            SUPERUSER,
            "-d",
            "postgres",
            "-tAc",
        ]
        exists = self._run([*psql, f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"])  # noqa: S608 - constant
        if exists.strip() != "1":
            self._run([*psql, f"CREATE DATABASE {DATABASE}"])

    def _run(self, argv: list[str], as_owner: bool = False) -> str:
        if as_owner and os.geteuid() == 0:
            argv = ["runuser", "-u", self._run_as, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StackError(f"{' '.join(argv[:3])}... failed: {result.stderr.strip()}")
        return result.stdout

    def healthy(self) -> bool:
        result = subprocess.run(
            [
                str(postgres_bindir() / "pg_isready"),
                "-q",
                "-h",
                self.settings.host,
                "-p",
                str(self.settings.postgres_port),
            ],
            check=False,
        )
        return result.returncode == 0

    def stop(self) -> None:
        self.process().stop(timeout=30)

    def endpoints(self) -> dict[str, str]:
        return {"postgres_dsn": self.dsn}
