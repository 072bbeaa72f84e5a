"""Running the `aios` command as a user would: a separate process, its exit code and output."""

from __future__ import annotations

import os
import subprocess
import sys

AIOS = [sys.executable, "-c", "from aios.cli.main import run; run()"]


def aios(*args: str, env: dict[str, str] | None = None, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AIOS, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=timeout_s
    )
