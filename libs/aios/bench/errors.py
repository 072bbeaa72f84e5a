"""Errors of the benchmarks: a tool or a service they need is missing or failed."""

from __future__ import annotations

from aios.errors import AiosError


class BenchError(AiosError):
    """A benchmark could not run; the message says what to install or look at."""
