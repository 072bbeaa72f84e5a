"""Errors of policy files, their store and their evaluation."""

from __future__ import annotations

from dataclasses import dataclass

from aios.errors import AiosError


class PolicyError(AiosError):
    """A policy could not be loaded, stored or used."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a policy file, where it is."""

    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "file"
        return f"{where}: {self.field or '(top level)'}: {self.message}"


class PolicyInvalid(PolicyError):
    """The file is not valid YAML or not a valid policy; every problem carries its line and field."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: invalid policy\n" + "\n".join(f"  {source}:{p}" for p in problems))


class PolicyNotFound(PolicyError):
    """No stored policy version matches."""
