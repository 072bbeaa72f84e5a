"""docs/benchmarks.md: each benchmark owns one section, replaced whole on every run."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aios.paths import project_root

REPORT = "docs/benchmarks.md"
HEADER = """# Benchmarks

Written by `make bench` (`python -m aios.bench`). Every figure is a ratio or a measurement taken
side by side in the same run on the machine named in its section: these machines are noisy, so
compare ratios, not absolute numbers across runs.
"""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        cpu = model
    except (OSError, StopIteration):
        pass
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory_gib:.0f} GiB RAM, {platform.system()} {platform.release()}"


def commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    return result.stdout.strip() or "unknown"


def stamp(command: str) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"Command: `{command}` · machine: {machine()} · date: {now} · commit: {commit()}"


def write_section(name: str, body: str, root: Path | None = None) -> Path:
    """Replace (or append) the section between this benchmark's markers."""
    path = (root or project_root()) / REPORT
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text() if path.exists() else HEADER
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    section = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)
    return path


def save_figure(fig: Any, path: Path, dpi: int = 120) -> None:
    """Write a matplotlib figure (tight layout) for the report and release it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
