"""Where the project's own files live, so code finds schemas and infra from any working directory."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The repository root: `AIOS_HOME` when set (containers), else the checkout this package is in."""
    home = os.environ.get("AIOS_HOME")
    if home:
        return Path(home)
    return Path(__file__).resolve().parents[2]


def schemas_dir() -> Path:
    return project_root() / "schemas"


def infra_dir() -> Path:
    return project_root() / "infra"
