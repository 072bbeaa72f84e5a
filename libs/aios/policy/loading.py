"""Reading a policy file: YAML with line numbers, the pydantic model, and the content-hash version.

Every problem is reported with the line and the field it concerns, so an operator can fix a file
from the error alone. The version is the SHA-256 of the file's bytes: the same file is the same
version wherever it is applied, and any edit is a new one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from aios.policy.errors import PolicyInvalid, Problem
from aios.policy.model import Policy

Location = Sequence[str | int]


@dataclass(frozen=True)
class LoadedPolicy:
    """A valid policy with its version and the exact text it was read from."""

    policy: Policy
    version: str
    source: str

    @property
    def tenant(self) -> str:
        return self.policy.tenant


def policy_version(text: str) -> str:
    """Content hash of a policy file: 16 hex characters of its SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def load_policy_file(path: Path) -> LoadedPolicy:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyInvalid(str(path), [Problem(None, "", f"cannot read the file: {exc}")]) from exc
    return load_policy(text, str(path))


def load_policy(text: str, source: str = "<policy>") -> LoadedPolicy:
    """The policy in `text`, or PolicyInvalid listing every problem with its line and field."""
    root, data = _parse(text, source)
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(root, tuple(error["loc"]), error["msg"], error["type"]) for error in exc.errors()]
        raise PolicyInvalid(source, _unique(problems)) from None
    duplicates = policy.duplicate_names()
    if duplicates:
        raise PolicyInvalid(
            source,
            [
                _problem(root, ("rules", i, "name"), f"rule name {policy.rules[i].name!r} is already used", "")
                for i in duplicates
            ],
        )
    return LoadedPolicy(policy, policy_version(text), text)


def _parse(text: str, source: str) -> tuple[yaml.Node | None, object]:
    """The YAML node tree (for line numbers) and the plain data; duplicate keys are an error."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise PolicyInvalid(source, [Problem(line, "", f"not valid YAML: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise PolicyInvalid(source, [Problem(None, "", f"not valid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise PolicyInvalid(source, [Problem(1, "", "a policy is a mapping with tenant, rules and default")])
    duplicates = list(_duplicate_keys(root, ()))
    if duplicates:
        raise PolicyInvalid(source, duplicates)
    return root, data


def _duplicate_keys(node: yaml.Node | None, path: tuple[str | int, ...]) -> list[Problem]:
    """PyYAML keeps the last of two equal keys silently; a policy must not change meaning that way."""
    problems: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                problems.append(Problem(key.start_mark.line + 1, _dotted((*path, name)), "key given twice"))
            seen.add(name)
            problems.extend(_duplicate_keys(value, (*path, name)))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems.extend(_duplicate_keys(item, (*path, index)))
    return problems


def _problem(root: yaml.Node | None, loc: Location, message: str, kind: str) -> Problem:
    path = _yaml_path(root, loc, kind)
    line = _line_of(root, path)
    if kind == "missing":
        message = "required field is missing"
    elif kind == "extra_forbidden":
        message = "unknown field"
    return Problem(line, _dotted(path), message.removeprefix("Value error, "))


def _yaml_path(root: yaml.Node | None, loc: Location, kind: str) -> tuple[str | int, ...]:
    """The part of pydantic's location that names places in the file.

    Pydantic adds the names of union members it tried (`str`, `list[str]`, `Compare`) to the
    location; they are not keys of the document, so they are dropped. The last part of a missing
    or unknown field's location is a key that is (or should be) absent: it is kept.
    """
    path: list[str | int] = []
    node = root
    for position, part in enumerate(loc):
        child = _child(node, part)
        if child is not None:
            path.append(part)
            node = child
        elif position == len(loc) - 1 and kind in ("missing", "extra_forbidden"):
            path.append(part)
    return tuple(path)


def _child(node: yaml.Node | None, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if str(key.value) == part:
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part]
    return None


def _line_of(root: yaml.Node | None, path: Sequence[str | int]) -> int | None:
    """Line (1-based) of the deepest node of `path` present in the file; a key's own line for mappings."""
    node = root
    line = root.start_mark.line + 1 if root is not None else None
    for part in path:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            pair = next(((k, v) for k, v in node.value if str(k.value) == part), None)
            if pair is None:
                break
            line = pair[0].start_mark.line + 1
            node = pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _dotted(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _unique(problems: list[Problem]) -> list[Problem]:
    """A union failing in each of its members gives one error per member: keep the deepest ones.

    `attributes.amount: {gt: x}` fails as a string, as a number and as a comparison; the
    comparison's error (at `attributes.amount.gt`) says what is wrong, the others only repeat
    that the field as a whole did not fit.
    """
    fields = {problem.field for problem in problems}
    seen: set[tuple[int | None, str, str]] = set()
    kept = []
    for problem in problems:
        key = (problem.line, problem.field, problem.message)
        deeper = any(f.startswith(problem.field + ".") or f.startswith(problem.field + "[") for f in fields)
        if key not in seen and not (deeper and problem.field):
            seen.add(key)
            kept.append(problem)
    return kept
