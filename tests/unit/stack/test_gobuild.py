"""Go programs of the stack: built once into the cache; without Go, the reason says what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from aios.stack.errors import MissingToolError
from aios.stack.seaweedfs import SEAWEEDFS_MODULE, SEAWEEDFS_VERSION, build_seaweedfs, seaweedfs_binary


def test_a_built_binary_in_the_cache_is_used_as_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    built = seaweedfs_binary(tmp_path)
    built.parent.mkdir(parents=True)
    built.write_bytes(b"weed")
    assert build_seaweedfs(tmp_path) == built
    assert built.parent == tmp_path / "seaweedfs" / SEAWEEDFS_VERSION


def test_without_go_setup_says_why_and_leaves_no_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(MissingToolError, match=f"go is needed to build weed from {SEAWEEDFS_MODULE}"):
        build_seaweedfs(tmp_path)
    assert not seaweedfs_binary(tmp_path).exists()
