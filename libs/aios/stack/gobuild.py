"""Building a Go program of the stack from the Go module proxy into the cache, once.

Not `go install module@version`: modules with replace directives (Jaeger's, SeaweedFS's) are refused by it.
So the module is downloaded into Go's module cache (kept: a rebuild fetches nothing) and built from there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from aios.stack.errors import MissingToolError, StackError


def build_go_program(module: str, version: str, package: str, target: Path, *, copy_module: bool = False) -> Path:
    """`package` (e.g. `./cmd/jaeger`) of `module@version` built to `target`, unless `target` exists.

    `copy_module`: build in a writable copy of the module folder (Go's module cache is read-only and
    some builds write into their source tree).
    """
    if target.exists():
        return target
    if shutil.which("go") is None:
        raise MissingToolError(
            f"go is needed to build {target.name} from {module} (https://go.dev/dl, or apt-get install golang)"
        )
    env = {**os.environ, "GOFLAGS": "-buildvcs=false"}
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with tempfile.TemporaryDirectory() as scratch:
        download = _go(["go", "mod", "download", "-json", f"{module}@{version}"], scratch, env)
        source = json.loads(download)["Dir"]
        if copy_module:
            copy = Path(scratch) / "src"
            shutil.copytree(source, copy)
            for root, dirs, files in os.walk(copy):
                for name in dirs + files:
                    os.chmod(os.path.join(root, name), 0o755 if name in dirs else 0o644)
            source = str(copy)
        _go(["go", "build", "-trimpath", "-o", str(partial), package], source, env)
    partial.replace(target)
    return target


def _go(argv: list[str], cwd: str, env: dict[str, str]) -> str:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StackError(f"`{' '.join(argv)}` failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return result.stdout
