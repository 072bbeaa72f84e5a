"""A long-running background process with a pid file and a log file, found again across CLI calls."""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aios.stack.errors import ComponentFailedError


@dataclass
class ManagedProcess:
    """One process of the local stack, detached from the CLI that started it.

    The pid file is the only state: `aios stack status` in another shell finds the process
    through it, and a stale file (the pid is gone or belongs to something else) reads as stopped.
    """

    name: str
    argv: Sequence[str]
    state_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    run_as: str | None = None
    """OS user to run as; PostgreSQL refuses to run as root."""
    ports: Sequence[tuple[str, int]] = ()
    """Addresses it listens on: if another process holds one, starting fails at once instead of
    a health check passing against the wrong server."""
    _popen: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def pid_file(self) -> Path:
        return self.state_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        """The pid when the process is alive and is the one we started, else None."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return None
        if "State:\tZ" in status:
            return None
        # A recycled pid would run something else: the executable name must match.
        # Scripts run through their interpreter, so the name may be the second word.
        # Redis rewrites its title to "redis-server host:port", hence the split.
        names = {Path(os.fsdecode(word).split(" ")[0]).name for word in cmdline[:2] if word}
        with contextlib.suppress(OSError):
            names.add(Path(os.readlink(f"/proc/{pid}/exe")).name)
        # `python` and `python3.11` in a venv are one interpreter: compare resolved names too.
        wanted = {Path(self.argv[0]).name, Path(os.path.realpath(self.argv[0])).name}
        if not names & wanted:
            return None
        return pid

    def is_running(self) -> bool:
        return self.pid() is not None

    def _alive(self) -> bool:
        """Right after a start the child may not have exec'd yet, so ask the Popen, not /proc."""
        if self._popen is not None:
            return self._popen.poll() is None
        return self.is_running()

    def start(self) -> int:
        """Start the process unless it already runs; returns its pid."""
        running = self.pid()
        if running is not None:
            return running
        for host, port in self.ports:
            if _listening(host, port):
                raise ComponentFailedError(
                    self.name, f"cannot start: {host}:{port} is already in use by another process", self.log_tail()
                )
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_file.open("ab")
        preexec: Callable[[], None] | None = None
        if self.run_as and os.geteuid() == 0:
            preexec = _drop_privileges(self.run_as)
        proc = subprocess.Popen(
            list(self.argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **self.env},
            start_new_session=True,
            preexec_fn=preexec,
        )
        log.close()
        self.pid_file.write_text(str(proc.pid))
        self._popen = proc
        return proc.pid

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, wait for a clean exit, then SIGKILL what is left."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.pid() is not None:
            _reap(pid)
            time.sleep(0.1)
        if self.pid() is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _reap(pid)
        self.pid_file.unlink(missing_ok=True)

    def kill(self) -> None:
        """SIGKILL without warning: what the chaos tests do to a broker."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            _reap(pid)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def wait_until(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll `check` until it holds; fail with the log tail if the process dies or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            if not self._alive():
                raise ComponentFailedError(self.name, f"exited before {what}", self.log_tail())
            time.sleep(0.25)
        raise ComponentFailedError(self.name, f"not {what} after {timeout:.0f}s", self.log_tail())


def _listening(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def _reap(pid: int) -> None:
    """Collect the exit status if the process is our child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _drop_privileges(user: str) -> Callable[[], None]:
    entry = pwd.getpwnam(user)

    def demote() -> None:
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)

    return demote


def chown_to(path: Path, user: str) -> None:
    """Give a state folder to the user a component runs as (no-op unless we are root)."""
    if os.geteuid() != 0:
        return
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)
