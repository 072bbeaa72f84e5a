"""Finding and ordering migration files, without a database."""

from __future__ import annotations

from pathlib import Path

import pytest

from aios.db.errors import MigrationError
from aios.db.migrations import load_migrations


def test_files_are_ordered_by_number_and_other_files_ignored(tmp_path: Path) -> None:
    (tmp_path / "0010_later.sql").write_text("SELECT 10")
    (tmp_path / "0002_second.sql").write_text("SELECT 2")
    (tmp_path / "0001_first.sql").write_text("SELECT 1")
    (tmp_path / "README.md").write_text("not a migration")

    migrations = load_migrations(tmp_path)

    assert [(m.version, m.name, m.sql) for m in migrations] == [
        (1, "first", "SELECT 1"),
        (2, "second", "SELECT 2"),
        (10, "later", "SELECT 10"),
    ]
    assert migrations[0].label == "0001_first"


@pytest.mark.parametrize("name", ["1_short.sql", "0001-dash.sql", "0001_Upper.sql", "0001_.sql"])
def test_misnamed_sql_file_is_an_error(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("SELECT 1")
    with pytest.raises(MigrationError, match=r"NNNN_name\.sql"):
        load_migrations(tmp_path)


def test_two_files_with_one_number_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1")
    (tmp_path / "0001_b.sql").write_text("SELECT 1")
    with pytest.raises(MigrationError, match="share version 1"):
        load_migrations(tmp_path)


def test_package_migrations_start_with_tenants() -> None:
    migrations = load_migrations()
    assert migrations[0].label == "0001_tenants"
    assert [m.version for m in migrations] == sorted({m.version for m in migrations})
