"""Model artifacts are checked against the SHA-256 recorded when they were registered, at every load.

The digest covers every file of the artifact folder, by relative path and content, in path order: a
changed, added or removed file changes it. A version whose files no longer match is refused (logged,
counted in `aios_model_artifact_refused_total`, alerted); workers route around it, so the version
serving before keeps serving.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from aios.inference.errors import ArtifactError
from aios.observability import metrics

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


class ArtifactTamperedError(ArtifactError):
    """The artifact's files are not those registered."""


def artifact_sha256(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with path.open("rb") as file:
            while chunk := file.read(_CHUNK):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def check_artifact(name: str, version: int, folder: Path, recorded: str | None) -> None:
    """Raise ArtifactTamperedError unless `folder` hashes to `recorded` (None: registered before digests)."""
    if recorded is None:
        log.warning("model %s:%d was registered without an artifact digest; loading it unchecked", name, version)
        return
    found = artifact_sha256(folder)
    if found != recorded:
        metrics.MODEL_ARTIFACT_REFUSED.labels(name, str(version)).inc()
        message = (
            f"model {name}:{version} refused: its artifact at {folder} has SHA-256 {found}, not the {recorded}"
            " recorded at registration (changed after it was registered)"
        )
        log.error(message)
        raise ArtifactTamperedError(message)
