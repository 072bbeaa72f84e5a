"""docker-compose.yml and the Dockerfile, read as Docker would, and checked against the code they deploy.

There is no Docker engine on these machines, so nothing here starts a container. Each `check_*`
function returns the problems it finds (empty: none), so a test runs it on the real files and on
deliberately broken copies alike, and sees it fail when the code and the deployment drift apart.
Nothing is listed by hand: services come from infra/services.yaml and services/, variables from the
settings classes, ports from settings defaults, the build from pyproject.toml.
"""

from __future__ import annotations

import ast
import copy
import fnmatch
import importlib
import importlib.metadata
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import typer.main
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from pydantic import ValidationError
from pydantic_settings import BaseSettings

import aios
import aios.paths
from aios.kafka.topics import load_catalogue
from aios.paths import project_root
from aios.runtime.catalog import ServiceSpec, load_services
from aios.settings import LOCAL_JAEGER_QUERY_PORT, ConnectionSettings
from aios.stack.jaeger import JAEGER_IMAGE

ROOT = project_root()
LONG_RUNNING_RESTARTS = frozenset({"always", "unless-stopped", "on-failure"})
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
DEFAULT_HEALTH_PATH: str = ServiceSpec.model_fields["health_path"].default
# Top-level folders under project_root() that the image does not need: local state (the image moves
# it to /var/lib/aios through settings) and what benchmarks and `aios ingest openapi` write for developers.
NOT_SHIPPED = frozenset({".aios", "docs"})

_VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: object) -> str:
    """A compose value as Docker reads it with no variables set: defaults taken, a required one a stand-in."""

    def replace(match: re.Match[str]) -> str:
        name, operator, argument = match.groups()
        if operator and operator.endswith("-"):
            return argument
        if operator and operator.endswith("?"):
            return f"{name.lower().replace('_', '-')}-value"
        return ""

    return _VARIABLE.sub(replace, str(value))


# --- The Dockerfile --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [i.arguments for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for arguments in self.all("ENV"):
            for pair in shlex.split(arguments):
                key, _, value = pair.partition("=")
                found[key] = value
        return found

    def args(self) -> dict[str, str]:
        return dict(_assignment(arguments) for arguments in self.all("ARG"))


def _assignment(text: str) -> tuple[str, str]:
    key, _, value = text.partition("=")
    return key.strip(), value.strip().strip('"')


@dataclass
class Dockerfile:
    global_args: dict[str, str]
    stages: list[Stage]

    @classmethod
    def parse(cls, text: str) -> Dockerfile:
        logical = re.sub(
            r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        )
        global_args: dict[str, str] = {}
        stages: list[Stage] = []
        for line in logical.splitlines():
            if not line.strip():
                continue
            keyword, _, arguments = line.strip().partition(" ")
            keyword, arguments = keyword.upper(), " ".join(arguments.split())
            if keyword == "FROM":
                words = arguments.split()
                base = _substitute(words[0], global_args)
                stages.append(Stage(base, words[2] if len(words) > 2 and words[1].upper() == "AS" else None))
            elif not stages:
                if keyword == "ARG":
                    key, value = _assignment(arguments)
                    global_args[key] = value
            else:
                stages[-1].instructions.append(Instruction(keyword, arguments))
        return cls(global_args, stages)

    @property
    def final(self) -> Stage:
        return self.stages[-1]


def _substitute(text: str, values: Mapping[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: values.get(m.group(1), m.group(0)), text)


# --- Settings: every AIOS_* variable the code reads ----------------------------------------------------


SETTINGS_CLASS = re.compile(r"^class \w+\(\w*Settings\b", re.MULTILINE)
"""A module defining a settings class (on BaseSettings or one of ours, such as WorkerSettings)."""


@cache
def settings_classes() -> tuple[type[BaseSettings], ...]:
    """Every pydantic-settings class of the package (the modules that define one are imported)."""
    package = Path(aios.__file__).parent
    for path in sorted(package.rglob("*.py")):
        if path.name != "__main__.py" and SETTINGS_CLASS.search(path.read_text(encoding="utf-8")):
            parts = ("aios", *path.relative_to(package).with_suffix("").parts)
            importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    found: dict[str, type[BaseSettings]] = {}
    pending: list[type[BaseSettings]] = [BaseSettings]
    while pending:
        for subclass in pending.pop().__subclasses__():
            pending.append(subclass)
            if subclass.__module__.startswith("aios."):
                found[f"{subclass.__module__}.{subclass.__qualname__}"] = subclass
    return tuple(found.values())


def env_prefix(settings: type[BaseSettings]) -> str:
    return str(settings.model_config.get("env_prefix") or "").upper()


def _environ_reads() -> set[str]:
    """`AIOS_*` names the package reads straight from os.environ (e.g. AIOS_HOME in aios.paths)."""
    names: set[str] = set()
    for path in Path(aios.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                target, candidates = node.func, node.args[:1]
            elif isinstance(node, ast.Subscript):
                target, candidates = node.value, [node.slice]
            else:
                continue
            if "environ" not in ast.unparse(target) and "getenv" not in ast.unparse(target):
                continue
            for candidate in candidates:
                if isinstance(candidate, ast.Constant) and str(candidate.value).startswith("AIOS_"):
                    names.add(str(candidate.value))
    return names


@cache
def known_variables() -> frozenset[str]:
    fields = {env_prefix(cls) + name.upper() for cls in settings_classes() for name in cls.model_fields}
    return frozenset(fields | _environ_reads())


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """os.environ with no AIOS_* variable but `values`, restored afterwards."""
    saved = dict(os.environ)
    try:
        for key in [k for k in os.environ if k.startswith("AIOS_")]:
            del os.environ[key]
        os.environ.update(values)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def service_settings(module: str) -> type[BaseSettings] | None:
    """The settings class of `services.<name>`: the one whose prefix is AIOS_<NAME>_."""
    prefix = f"AIOS_{module.rsplit('.', 1)[-1].upper()}_"
    matches = [cls for cls in settings_classes() if env_prefix(cls) == prefix]
    return matches[0] if len(matches) == 1 else None


# --- The compose file --------------------------------------------------------------------------------


@dataclass
class Deployment:
    compose: dict[str, Any]
    dockerfile_text: str
    pyproject: dict[str, Any]
    root: Path = ROOT

    @classmethod
    def load(cls, root: Path = ROOT) -> Deployment:
        return cls(
            yaml.safe_load((root / "docker-compose.yml").read_text(encoding="utf-8")),
            (root / "Dockerfile").read_text(encoding="utf-8"),
            tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8")),
            root,
        )

    def copy(self) -> Deployment:
        """A copy to break on purpose (the files on disk stay as they are)."""
        return Deployment(copy.deepcopy(self.compose), self.dockerfile_text, copy.deepcopy(self.pyproject), self.root)

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        return self.compose["services"]

    @property
    def dockerfile(self) -> Dockerfile:
        return Dockerfile.parse(self.dockerfile_text)

    @property
    def image(self) -> str:
        """The AIOS image's name: the package name, tagged with its version."""
        project = self.pyproject["project"]
        return f"{project['name']}:{project['version']}"

    def environment(self, name: str) -> dict[str, str]:
        raw = self.services[name].get("environment") or {}
        pairs = dict(item.split("=", 1) for item in raw) if isinstance(raw, list) else raw
        return {str(key): interpolate(value) for key, value in pairs.items()}

    def runtime_environment(self, name: str) -> dict[str, str]:
        """What the process sees: the image's ENV, then the service's environment."""
        image_env = self.dockerfile.final.env() if "build" in self.services[name] else {}
        return {**{k: v for k, v in image_env.items() if k.startswith("AIOS_")}, **self.environment(name)}

    def aios_services(self) -> dict[str, dict[str, Any]]:
        return {name: svc for name, svc in self.services.items() if "build" in svc}

    def long_running(self) -> dict[str, dict[str, Any]]:
        return {name: svc for name, svc in self.aios_services().items() if svc.get("restart") != "no"}

    def commands(self, name: str) -> list[list[str]]:
        """The command lines a container runs (each part of an `sh -c` script separately)."""
        command = self.services[name].get("command") or []
        if isinstance(command, str):
            command = shlex.split(command)
        if len(command) == 3 and command[0] == "sh" and command[1].startswith("-") and "c" in command[1]:
            return [shlex.split(part) for part in re.split(r"&&|;|\|\|", command[2]) if part.strip()]
        return [list(map(str, command))] if command else []

    def module(self, name: str) -> str | None:
        for argv in self.commands(name):
            if argv[:2] == ["python", "-m"] and len(argv) > 2:
                return argv[2]
        return None

    def container_ports(self, name: str) -> set[int]:
        service = self.services[name]
        ports = {int(interpolate(port)) for port in service.get("expose") or []}
        return ports | set(self.published_ports(name).values())

    def published_ports(self, name: str) -> dict[int, int]:
        """Host port -> container port."""
        found: dict[int, int] = {}
        for entry in self.services[name].get("ports") or []:
            if isinstance(entry, dict):
                found[int(interpolate(entry["published"]))] = int(interpolate(entry["target"]))
            else:
                parts = interpolate(entry).split("/")[0].split(":")
                found[int(parts[-2] if len(parts) > 1 else parts[-1])] = int(parts[-1])
        return found

    def mounted(self, name: str, target: str) -> Path | None:
        """The file of this checkout mounted at `target` in the container."""
        for volume in self.services[name].get("volumes") or []:
            source, _, rest = str(volume).partition(":")
            if rest.split(":")[0] == target and source.startswith("."):
                return self.root / source
        return None

    def catalogue(self) -> dict[str, ServiceSpec]:
        return {spec.module: spec for spec in load_services(self.root / "infra" / "services.yaml")}


def healthcheck_url(service: Mapping[str, Any]) -> str | None:
    test = (service.get("healthcheck") or {}).get("test") or []
    words = shlex.split(test) if isinstance(test, str) else [str(word) for word in test]
    return next((word for word in words if word.startswith("http")), None)


def endpoints(value: str) -> list[tuple[str, int | None]]:
    """host:port pairs named by a setting's value: URLs, and comma-separated host:port lists."""
    found: list[tuple[str, int | None]] = []
    for part in (p.strip() for p in value.split(",")):
        if "://" in part:
            url = urlsplit(part)
            if url.hostname:
                found.append((url.hostname, url.port))
        elif re.fullmatch(r"[A-Za-z0-9.-]+:\d+", part):
            host, port = part.rsplit(":", 1)
            found.append((host, int(port)))
    return found


def _pinned(image: str) -> bool:
    """Tagged with a release (major.minor at least: `postgres:15.8`, `python:3.11.10-slim`), or a digest."""
    name, _, tag = image.rpartition("/")[2].partition(":")
    return bool(name) and ("@sha256:" in image or re.match(r"v?\d+\.\d+", tag) is not None)


# --- Checks --------------------------------------------------------------------------------------------


def check_images(d: Deployment) -> list[str]:
    problems = [
        f"{name}: image {svc.get('image')!r} is not pinned to a version"
        for name, svc in d.services.items()
        if not _pinned(interpolate(svc.get("image", "")))
    ]
    problems += [
        f"Dockerfile: base image {stage.base!r} is not pinned"
        for stage in d.dockerfile.stages
        if not _pinned(stage.base)
    ]
    for name, svc in d.services.items():
        runs_aios = d.module(name) or any(argv[:1] == ["aios"] for argv in d.commands(name))
        build = svc.get("build")
        if runs_aios and build is None:
            problems.append(f"{name}: runs AIOS code but is not built from the Dockerfile")
        if build is not None:
            if svc.get("image") != d.image:
                problems.append(f"{name}: image {svc.get('image')!r} is not {d.image!r} (pyproject name and version)")
            context = build if isinstance(build, str) else build.get("context", ".")
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            if (d.root / context).resolve() != d.root or not (d.root / context / dockerfile).is_file():
                problems.append(f"{name}: build {build!r} is not the repository's ./Dockerfile")
    return problems


LOCAL_STACK_ONLY = {"services.schema_registry"}
"""Entry points of the local stack's own parts; a deployment runs production ones instead (Confluent's registry)."""


def check_every_service_deployed(d: Deployment) -> list[str]:
    deployed = {d.module(name): name for name in d.aios_services()}
    packages = {f"services.{p.parent.name}" for p in (d.root / "services").glob("*/__main__.py")} - LOCAL_STACK_ONLY
    problems = [f"{module} (services/) has no container" for module in sorted(packages - deployed.keys())]
    for module, spec in d.catalogue().items():
        if module not in deployed:
            problems.append(f"{spec.name} ({module}, infra/services.yaml) has no container")
        elif deployed[module] != spec.name:
            problems.append(f"{module} runs as {deployed[module]!r}, but infra/services.yaml names it {spec.name!r}")
    return problems


def _cli_problem(argv: list[str]) -> str | None:
    """Walk `aios`'s typer app down the subcommands, then let the command parse the rest of the line.

    Typer may bring its own copy of click, so groups and usage errors are recognised by what they
    can do (`list_commands`, `format_message`), not by click's classes.
    """
    from aios.cli.main import app

    command: Any = typer.main.get_command(app)
    path, rest = ["aios"], argv[1:]
    while hasattr(command, "list_commands") and rest and not rest[0].startswith("-"):
        sub = command.get_command(command.context_class(command), rest[0])
        if sub is None:
            return f"`{' '.join(argv)}`: {' '.join(path)} has no command {rest[0]!r}"
        command, path, rest = sub, [*path, rest[0]], rest[1:]
    if "--help" in rest:
        return None
    if hasattr(command, "list_commands"):
        return f"`{' '.join(argv)}` names a group, not a command"
    try:
        command.make_context(" ".join(path), list(rest))
    except Exception as exc:
        if not hasattr(exc, "format_message"):
            raise
        return f"`{' '.join(argv)}`: {exc.format_message()}"
    return None


def command_problem(argv: list[str]) -> str | None:
    if argv[:2] == ["python", "-m"] and len(argv) > 2:
        module = argv[2]
        spec = importlib.util.find_spec(module)
        if spec is None:
            return f"`{' '.join(argv)}`: no module {module}"
        if spec.submodule_search_locations is not None and importlib.util.find_spec(f"{module}.__main__") is None:
            return f"`{' '.join(argv)}`: package {module} has no __main__"
        return None
    if argv[:1] == ["aios"]:
        return _cli_problem(argv)
    return f"`{' '.join(argv)}`: neither `python -m` nor `aios`"


def check_commands(d: Deployment) -> list[str]:
    problems = []
    for name in d.aios_services():
        argvs = d.commands(name)
        if not argvs:
            problems.append(f"{name}: no command")
        problems += [f"{name}: {problem}" for argv in argvs if (problem := command_problem(argv))]
    return problems


def check_variables(d: Deployment) -> list[str]:
    known = known_variables()
    problems = [
        f"{name}: {key} is no setting of any settings class in libs/aios"
        for name in d.services
        for key in d.environment(name)
        if key.startswith("AIOS_") and key not in known
    ]
    problems += [
        f"Dockerfile: ENV {key} is no setting of any settings class in libs/aios"
        for key in d.dockerfile.final.env()
        if key.startswith("AIOS_") and key not in known
    ]
    for name in d.aios_services():
        with environment(d.runtime_environment(name)):
            for settings in settings_classes():
                if not env_prefix(settings):
                    continue  # a base (WorkerSettings): read only through its subclasses
                try:
                    settings()
                except ValidationError as exc:
                    problems.append(f"{name}: {settings.__name__} rejects its environment: {exc}")
    return problems


def service_ports(d: Deployment, name: str) -> dict[str, int]:
    """The ports the service's own settings class gives it under its environment (non-zero only)."""
    module = d.module(name)
    settings = service_settings(module) if module else None
    if settings is None:
        return {}
    with environment(d.runtime_environment(name)):
        instance = settings()
    return {key: value for key, value in instance.model_dump().items() if key.endswith("port") and value}


def check_ports(d: Deployment) -> list[str]:
    problems: list[str] = []
    catalogue = d.catalogue()
    for name in d.long_running():
        module = d.module(name)
        if module is None or service_settings(module) is None:
            problems.append(f"{name}: no settings class with prefix AIOS_<SERVICE>_ for {module}")
            continue
        ports = service_ports(d, name)
        spec = catalogue.get(module)
        if spec is not None:
            for wanted in {spec.port, *spec.metrics_ports()}:
                if wanted not in ports.values():
                    problems.append(f"{name}: infra/services.yaml says port {wanted}, its settings give {ports}")
        exposed = d.container_ports(name)
        problems += [
            f"{name}: listens on {port} ({key}) but does not expose it"
            for key, port in ports.items()
            if port not in exposed
        ]
    for name in d.services:
        problems += [
            f"{name}: host port {host} is container port {target}; the local stack's numbers must match"
            for host, target in d.published_ports(name).items()
            if host != target and name in d.aios_services()
        ]
    published = {host for name in d.services for host in d.published_ports(name)}
    with environment({}):
        defaults = ConnectionSettings().model_dump()
    for key, value in defaults.items():
        value = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
        for host, port in endpoints(value):
            if host in LOCAL_HOSTS and port not in published:
                problems.append(
                    f"the default {key} ({value}) is unreachable from the host: port {port} is not published"
                )
    return problems


def check_health_and_restarts(d: Deployment) -> list[str]:
    problems: list[str] = []
    catalogue = d.catalogue()
    one_shot = [name for name, svc in d.services.items() if svc.get("restart") == "no"]
    problems += [f"{name}: one-shot, but not an AIOS job" for name in one_shot if name not in d.aios_services()]
    problems += [
        f"{name}: restart {svc.get('restart')!r} is no restart policy"
        for name, svc in d.services.items()
        if name not in one_shot and svc.get("restart") not in LONG_RUNNING_RESTARTS
    ]
    for name, svc in d.long_running().items():
        module = d.module(name) or ""
        spec = catalogue.get(module)
        ports = service_ports(d, name)
        port = spec.port if spec else ports.get("port")
        if port is None:
            continue  # no settings class to say where it listens: check_ports reports that
        path = spec.health_path if spec else DEFAULT_HEALTH_PATH
        url = healthcheck_url(svc)
        wanted = f"http://127.0.0.1:{port}{path}"
        if url is None or (
            urlsplit(url).hostname not in LOCAL_HOSTS or url.replace("localhost", "127.0.0.1") != wanted
        ):
            problems.append(f"{name}: health check {url!r}, but the service answers at {wanted}")
        limits = ((svc.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        if not {"cpus", "memory"} <= limits.keys():
            problems.append(f"{name}: no cpus and memory limits (deploy.resources.limits)")
        if not svc.get("init"):
            problems.append(f"{name}: no init process to reap children and forward SIGTERM (init: true)")
    return problems


def check_endpoints(d: Deployment) -> list[str]:
    problems: list[str] = []
    published = {host for name in d.services for host in d.published_ports(name)}
    for name in d.services:
        for key, value in d.environment(name).items():
            if not key.startswith("AIOS_"):
                continue
            for host, port in endpoints(value):
                if port is None:
                    problems.append(f"{name}: {key}={value} names no port")
                elif host in LOCAL_HOSTS:
                    if port not in published:
                        problems.append(f"{name}: {key}={value}: nothing is published on the host's port {port}")
                elif host not in d.services:
                    problems.append(f"{name}: {key}={value}: {host} is no service of this file")
                elif port not in d.container_ports(host):
                    problems.append(f"{name}: {key}={value}: {host} exposes {sorted(d.container_ports(host))}")
    return problems


def _listeners(value: str) -> dict[str, tuple[str, int]]:
    found = {}
    for entry in value.split(","):
        listener, _, address = entry.partition("://")
        host, _, port = address.rpartition(":")
        found[listener] = (host, int(port))
    return found


def _broker_problems(d: Deployment, name: str, env: dict[str, str], quorum: dict[str, str], count: int) -> list[str]:
    """One broker's listeners, quorum entry, replication settings and log volume."""
    problems: list[str] = []
    listeners, advertised = _listeners(env["KAFKA_LISTENERS"]), _listeners(env["KAFKA_ADVERTISED_LISTENERS"])
    protocols = dict(pair.split(":") for pair in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    inter = env["KAFKA_INTER_BROKER_LISTENER_NAME"]
    if quorum.get(env["KAFKA_NODE_ID"]) != f"{name}:{listeners[controller][1]}":
        problems.append(f"{name}: node {env['KAFKA_NODE_ID']} is {quorum.get(env['KAFKA_NODE_ID'])} in the quorum")
    if set(listeners) - set(protocols):
        problems.append(f"{name}: listeners {set(listeners) - set(protocols)} have no security protocol")
    if advertised[inter][0] != name or advertised[inter][1] != listeners[inter][1]:
        problems.append(f"{name}: advertises {advertised[inter]} on {inter}, listens on {listeners[inter]}")
    for listener, (host, port) in advertised.items():
        if host in LOCAL_HOSTS and d.published_ports(name).get(port) != listeners[listener][1]:
            problems.append(f"{name}: advertises {host}:{port} to the host but does not publish it")
    if int(env["KAFKA_DEFAULT_REPLICATION_FACTOR"]) != count:
        problems.append(f"{name}: default replication {env['KAFKA_DEFAULT_REPLICATION_FACTOR']}")
    for key in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"):
        if int(env[key]) != count:
            problems.append(f"{name}: {key}={env[key]}")
    for key in ("KAFKA_MIN_INSYNC_REPLICAS", "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"):
        if int(env[key]) != 2:
            problems.append(f"{name}: {key}={env[key]}, not 2")
    if not any(str(v).endswith(f":{env['KAFKA_LOG_DIRS']}") for v in d.services[name].get("volumes") or []):
        problems.append(f"{name}: its log dir {env['KAFKA_LOG_DIRS']} is on no volume")
    return problems


def check_kafka(d: Deployment) -> list[str]:
    brokers = {
        name: d.environment(name) for name, svc in d.services.items() if svc["image"].startswith("apache/kafka:")
    }
    if len(brokers) != 3:
        return [f"{len(brokers)} apache/kafka brokers, not 3"]
    problems: list[str] = []
    voters = {env.get("KAFKA_CONTROLLER_QUORUM_VOTERS") for env in brokers.values()}
    if len(voters) != 1:
        return [f"brokers disagree on the controller quorum: {voters}"]
    (voter_list,) = voters
    if voter_list is None:
        return ["the brokers set no KAFKA_CONTROLLER_QUORUM_VOTERS"]
    quorum = {entry.split("@")[0]: entry.split("@")[1] for entry in voter_list.split(",")}
    advertised_internal = set()
    for name, env in brokers.items():
        problems += _broker_problems(d, name, env, quorum, len(brokers))
        inter = env["KAFKA_INTER_BROKER_LISTENER_NAME"]
        host, port = _listeners(env["KAFKA_ADVERTISED_LISTENERS"])[inter]
        advertised_internal.add(f"{host}:{port}")
    if len(set(quorum)) != len(brokers) or {env["KAFKA_NODE_ID"] for env in brokers.values()} != set(quorum):
        problems.append(f"node ids {[env['KAFKA_NODE_ID'] for env in brokers.values()]} against quorum {quorum}")
    for name in d.aios_services():
        bootstrap = d.runtime_environment(name).get("AIOS_KAFKA_BOOTSTRAP", "")
        if set(bootstrap.split(",")) != advertised_internal:
            problems.append(f"{name}: AIOS_KAFKA_BOOTSTRAP={bootstrap!r} is not every broker {advertised_internal}")
    for topic in load_catalogue(d.root / "infra" / "topics.yaml").topics:
        configs = topic.configs(len(brokers))
        if topic.effective_replication(len(brokers)) != 3 or configs["min.insync.replicas"] != "2":
            problems.append(f"topic {topic.name}: replication {topic.effective_replication(len(brokers))}, {configs}")
    return problems


def check_init(d: Deployment) -> list[str]:
    jobs = [name for name, svc in d.aios_services().items() if svc.get("restart") == "no"]
    if len(jobs) != 1:
        return [f"one one-shot init job expected, found {jobs}"]
    (init,) = jobs
    problems = []
    for wanted in (["aios", "topics", "apply"], ["aios", "schemas", "register"]):
        if wanted not in d.commands(init):
            problems.append(f"{init}: does not run `{' '.join(wanted)}`")
    brokers = [name for name, svc in d.services.items() if svc["image"].startswith("apache/kafka:")]
    registry = [name for name, svc in d.services.items() if "schema-registry" in svc["image"]]
    waits = d.services[init].get("depends_on") or {}
    for name in brokers + registry:
        if (waits.get(name) or {}).get("condition") != "service_healthy":
            problems.append(f"{init}: starts before {name} is healthy (topics would get fewer replicas)")
    for name in d.long_running():
        condition = ((d.services[name].get("depends_on") or {}).get(init) or {}).get("condition")
        if condition != "service_completed_successfully":
            problems.append(f"{name}: does not wait for {init} to complete")
    return problems


def check_keys(d: Deployment) -> list[str]:
    """Every AIOS container sees the same keys: what ingest seals (documents, secrets) extract and the rest open,
    what decide signs act verifies: one named volume at AIOS_KEYS_DIR."""
    problems = []
    for name in d.aios_services():
        environment = d.runtime_environment(name)
        keys_dir = environment.get("AIOS_KEYS_DIR")
        if keys_dir is None:
            problems.append(f"{name}: no AIOS_KEYS_DIR: its keys would be its own, not the others'")
            continue
        sources = {
            str(volume).partition(":")[0]
            for volume in d.services[name].get("volumes") or []
            if str(volume).partition(":")[2].split(":")[0] == keys_dir
        }
        if not sources or any(source.startswith(".") for source in sources):
            problems.append(f"{name}: AIOS_KEYS_DIR {keys_dir} is not a shared named volume")
        elif sources != {"keys"}:
            problems.append(f"{name}: its keys are in volume {sorted(sources)}, the others' in 'keys'")
    return problems


def check_prometheus(d: Deployment, scratch: Path) -> list[str]:
    name = next((n for n, svc in d.services.items() if svc["image"].startswith("prom/prometheus:")), None)
    config_path = d.mounted(name, "/etc/prometheus/prometheus.yml") if name else None
    rules = d.mounted(name, "/etc/prometheus/rules") if name else None
    if name is None or config_path is None or rules is None:
        return ["no Prometheus with a config and the rules of this checkout"]
    if "--web.enable-lifecycle" in (d.services[name].get("command") or []):
        return ["Prometheus runs with --web.enable-lifecycle: whoever reaches it can stop it (POST /-/quit)"]
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    scraped = {
        (target, entry["port"])
        for job in config["scrape_configs"]
        for entry in job.get("dns_sd_configs") or []
        for target in entry["names"]
    }
    catalogue = d.catalogue()
    wanted = set()
    for service in d.long_running():
        spec = catalogue.get(d.module(service) or "")
        wanted.add((service, spec.metrics_ports()[0] if spec else service_ports(d, service)["port"]))
    problems = [f"Prometheus does not scrape {service}:{port}" for service, port in sorted(wanted - scraped)]
    problems += [
        f"Prometheus scrapes {target}:{port}, which nothing serves" for target, port in sorted(scraped - wanted)
    ]
    promtool = shutil.which("promtool")
    if promtool is None:
        return [*problems, "promtool is missing: `make setup` installs Debian's prometheus package"]
    shutil.copy(config_path, scratch / "prometheus.yml")
    shutil.copytree(rules, scratch / "rules", dirs_exist_ok=True)
    result = subprocess.run(
        [promtool, "check", "config", str(scratch / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0 or "0 rule files found" in result.stdout:
        problems.append(f"promtool check config: {result.stdout}{result.stderr}")
    return problems


def check_otel(d: Deployment) -> list[str]:
    name = next((n for n, svc in d.services.items() if "opentelemetry-collector" in svc["image"]), None)
    command = " ".join(map(str, d.services[name].get("command") or [])) if name else ""
    target = re.search(r"--config=(\S+)", command)
    path = d.mounted(name, target.group(1)) if name and target else None
    if name is None or path is None:
        return ["no OpenTelemetry collector with a config file of this checkout"]
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems = []
    receivers = config["receivers"]["otlp"]["protocols"]
    for service in d.aios_services():
        endpoint = d.runtime_environment(service).get("AIOS_TRACING_OTLP_ENDPOINT")
        if endpoint is None:
            problems.append(f"{service}: exports no spans (AIOS_TRACING_OTLP_ENDPOINT)")
            continue
        protocol = d.runtime_environment(service).get("AIOS_TRACING_OTLP_PROTOCOL", "http/protobuf")
        listening = receivers["grpc" if protocol == "grpc" else "http"]["endpoint"]
        if urlsplit(endpoint).hostname != name or urlsplit(endpoint).port != int(listening.rsplit(":", 1)[1]):
            problems.append(f"{service}: spans go to {endpoint}, the collector listens on {name} {listening}")
    for pipeline in config["service"]["pipelines"].values():
        for kind in ("receivers", "processors", "exporters"):
            problems += [
                f"collector pipeline uses undefined {kind[:-1]} {c}"
                for c in pipeline.get(kind, [])
                if c not in config[kind]
            ]
    for exporter in config["exporters"].values():
        problems += [
            f"collector exports to {host}:{port}, which no service exposes"
            for host, port in endpoints(str(exporter.get("endpoint", "")))
            if host not in d.services or port not in d.container_ports(host)
        ]
    return problems


def check_jaeger(d: Deployment) -> list[str]:
    """The Jaeger release and config of the local stack, every address of that config set, the UI on its port."""
    name = next((n for n, svc in d.services.items() if svc["image"].startswith("jaegertracing/")), None)
    if name is None:
        return ["no Jaeger"]
    service = d.services[name]
    problems = [] if service["image"] == JAEGER_IMAGE else [f"{name}: image {service['image']}, not {JAEGER_IMAGE}"]
    command = " ".join(map(str, service.get("command") or []))
    target = re.search(r"--config=(\S+)", command)
    path = d.mounted(name, target.group(1)) if target else None
    if path != d.root / "infra" / "jaeger" / "jaeger.yaml":
        return [*problems, f"{name}: does not run infra/jaeger/jaeger.yaml"]
    environment = d.environment(name)
    for variable in sorted(set(re.findall(r"\$\{env:(\w+)\}", path.read_text(encoding="utf-8")))):
        value = environment.get(variable)
        if value is None:
            problems.append(f"{name}: {variable} (an address of its config) is not set")
        elif int(value.rsplit(":", 1)[1]) not in d.container_ports(name):
            problems.append(f"{name}: {variable}={value}, a port it does not expose")
    query = int(environment.get("JAEGER_QUERY_HTTP", ":0").rsplit(":", 1)[1])
    if d.published_ports(name).get(LOCAL_JAEGER_QUERY_PORT) != query:
        problems.append(f"{name}: the query API and UI ({query}) are not on the host's {LOCAL_JAEGER_QUERY_PORT}")
    for service_name in d.aios_services():
        url = d.runtime_environment(service_name).get("AIOS_JAEGER_URL")
        if url is None or endpoints(url) != [(name, query)]:
            problems.append(f"{service_name}: AIOS_JAEGER_URL={url} is not {name}'s query API ({query})")
    return problems


def check_dockerfile(d: Deployment) -> list[str]:
    dockerfile, project = d.dockerfile, d.pyproject["project"]
    problems: list[str] = []
    if len(dockerfile.stages) < 2:
        problems.append("Dockerfile: not multi-stage")
    final = dockerfile.final
    users = final.all("USER")
    if not users or users[-1].split(":")[0] in {"root", "0"}:
        problems.append("Dockerfile: the runtime stage runs as root")
    python = re.match(r"python:(\d+\.\d+\.\d+)", final.base)
    if python is None or not SpecifierSet(project["requires-python"]).contains(python.group(1)):
        problems.append(f"Dockerfile: base {final.base!r} is not a Python that satisfies {project['requires-python']}")
    build = dockerfile.stages[0]
    runs = " ; ".join(build.all("RUN"))
    installs = re.search(r"pip install [^;&]*?\"?\.\[([^\]]*)\]", runs)
    if installs is None or "ml" not in installs.group(1).split(","):
        problems.append("Dockerfile: the package is not installed with its `ml` extra")
    args = build.args()
    torch = next(Requirement(r) for r in project["optional-dependencies"]["ml"] if Requirement(r).name == "torch")
    if not args.get("TORCH_INDEX_URL", "").rstrip("/").endswith("/cpu") or "--index-url" not in runs:
        problems.append("Dockerfile: torch is not installed from a CPU wheel index by default")
    if not torch.specifier.contains(args.get("TORCH_VERSION", "")):
        problems.append(f"Dockerfile: torch {args.get('TORCH_VERSION')!r} does not satisfy the ml extra's {torch}")
    venv = re.search(r"python -m venv (\S+)", runs)
    for stage in (build, final):
        path = stage.env().get("PATH", "")
        if venv is None or f"{venv.group(1)}/bin" not in path.split(":"):
            problems.append(f"Dockerfile: {stage.name or 'a stage'} does not put the venv's bin on PATH")
    copied_build = _copied(build)
    needed = {"pyproject.toml", project["readme"], *_package_roots(d)}
    problems += [f"Dockerfile: the build stage does not copy {path}" for path in sorted(needed - copied_build)]
    home = final.env().get("AIOS_HOME")
    workdir = (final.all("WORKDIR") or [""])[-1]
    if home is None or home != workdir:
        problems.append(f"Dockerfile: AIOS_HOME ({home}) is not the runtime WORKDIR ({workdir}) where files are copied")
    runtime_dirs = _project_root_dirs() - NOT_SHIPPED
    problems += [
        f"Dockerfile: the code reads {p}/ under AIOS_HOME, the image lacks it"
        for p in sorted(runtime_dirs - _copied(final))
    ]
    ignored = [
        line.strip()
        for line in (d.root / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    problems += [
        f".dockerignore excludes {path}, which the Dockerfile copies"
        for path in sorted(_copied(build) | _copied(final))
        if any(fnmatch.fnmatch(path, pattern) or path.startswith(f"{pattern}/") for pattern in ignored)
    ]
    cmd = (final.all("CMD") or [""])[-1]
    entry = final.all("ENTRYPOINT")
    if entry or not cmd.startswith("["):
        problems.append("Dockerfile: CMD must be an exec-form command and no ENTRYPOINT (compose sets each command)")
    else:
        argv = yaml.safe_load(cmd)
        scripts = set(project.get("scripts", {}))
        problem = command_problem(argv) if argv[0] in scripts | {"python"} else f"{argv[0]} is no script of the package"
        if problem:
            problems.append(f"Dockerfile: CMD {argv}: {problem}")
    return problems


def _copied(stage: Stage) -> set[str]:
    sources: set[str] = set()
    for arguments in stage.all("COPY"):
        words = [w for w in arguments.split() if not w.startswith("--")]
        if any(w.startswith("--from") for w in arguments.split()):
            continue
        sources |= {w.rstrip("/").removeprefix("./") for w in words[:-1]}
    return sources


def _packages(d: Deployment) -> list[Path]:
    """Folders of the top-level packages setuptools builds (pyproject [tool.setuptools.packages.find])."""
    find = d.pyproject["tool"]["setuptools"]["packages"]["find"]
    return [
        init.parent
        for where in find["where"]
        for init in sorted((d.root / where).glob("*/__init__.py"))
        if any(fnmatch.fnmatch(init.parent.name, pattern) for pattern in find["include"])
    ]


def _package_roots(d: Deployment) -> set[str]:
    """The checkout's top-level folders holding those packages: what the build must copy."""
    return {package.relative_to(d.root).parts[0] for package in _packages(d)}


@cache
def _project_root_dirs() -> frozenset[str]:
    """Top-level folders the package reads under AIOS_HOME: `project_root() / "data"` and aios.paths' helpers."""
    home = Path("/aios-home")
    with environment({"AIOS_HOME": str(home)}):
        helpers = {
            name: function().relative_to(home).parts[0]
            for name, function in vars(aios.paths).items()
            if callable(function) and name.endswith("_dir") and function.__module__ == "aios.paths"
        }
    names = set(helpers.values())
    for path in Path(aios.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.BinOp)
                and isinstance(node.op, ast.Div)
                and ast.unparse(node.left) == "project_root()"
                and isinstance(node.right, ast.Constant)
            ):
                names.add(str(node.right.value).split("/")[0])
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in helpers:
                names.add(helpers[node.func.id])
    return frozenset(names)


def check_package_data(d: Deployment) -> list[str]:
    """Every non-Python file inside a package ships in the wheel the image installs (package-data globs)."""
    setuptools = d.pyproject["tool"]["setuptools"]
    globs = setuptools.get("package-data", {})
    problems = []
    for top in _packages(d):
        for file in top.rglob("*"):
            if not file.is_file() or file.suffix in {".py", ".pyc"} or "__pycache__" in file.parts:
                continue
            package_dir = next(p for p in file.parents if (p / "__init__.py").is_file())
            package = ".".join(package_dir.relative_to(top.parent).parts)
            relative = file.relative_to(package_dir).as_posix()
            patterns = [*globs.get(package, []), *globs.get("*", [])]
            if not any(fnmatch.fnmatch(relative, pattern) for pattern in patterns):
                problems.append(f"{file.relative_to(d.root)} is not in [tool.setuptools.package-data] {package!r}")
    return problems


def check_dependencies(d: Deployment) -> list[str]:
    """Every third-party module the services and the CLI can import is installed by `pip install .[ml]`."""
    project = d.pyproject["project"]
    closure = _requirement_closure((*project["dependencies"], *project["optional-dependencies"]["ml"]))
    provided = importlib.metadata.packages_distributions()
    entries = [f"services.{p.parent.name}.__main__" for p in (d.root / "services").glob("*/__main__.py")]
    imported, sources, names = _third_party_imports(d.root, (*sorted(entries), "aios.cli.main"))
    problems = []
    for module in sorted(imported):
        distributions = {canonicalize_name(name) for name in provided.get(module, [])}
        if not distributions & closure:
            problems.append(f"{module} (imported by {sources[module]}) comes from no requirement of aios[ml]")
    # FastAPI parses form posts only with python-multipart, which it does not require (it fails at start).
    if names & {"fastapi.Form", "fastapi.File", "fastapi.UploadFile"} and "python-multipart" not in closure:
        problems.append("fastapi forms (review pages) need python-multipart, which no requirement of aios[ml] installs")
    return problems


@cache
def _requirement_closure(requirements: tuple[str, ...]) -> frozenset[str]:
    seen: set[tuple[str, str]] = set()
    names: set[str] = set()
    pending = [(Requirement(text), "") for text in requirements]
    while pending:
        requirement, extra = pending.pop()
        # evaluate() starts from this interpreter's environment and overrides what it is given: here the extra
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        for wanted in ("", *sorted(requirement.extras)):
            if (name, wanted) in seen:
                continue
            seen.add((name, wanted))
            names.add(name)
            try:
                pending += [(Requirement(text), wanted) for text in importlib.metadata.requires(name) or []]
            except importlib.metadata.PackageNotFoundError:
                continue
    return frozenset(names)


def _module_file(root: Path, module: str) -> Path | None:
    base = root / "libs" if module.split(".")[0] == "aios" else root
    path = base.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@cache
def _third_party_imports(root: Path, entries: tuple[str, ...]) -> tuple[set[str], dict[str, str], set[str]]:
    """Top-level third-party modules reachable from `entries`, who imports each, and every name imported."""
    first_party = {"aios", "services"}
    seen: set[str] = set()
    pending = list(entries)
    imported: set[str] = set()
    sources: dict[str, str] = {}
    every: set[str] = set()
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        parts = module.split(".")
        pending += [".".join(parts[:i]) for i in range(1, len(parts))]
        path = _module_file(root, module)
        if path is None:
            continue
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                # An application uvicorn imports by name ("aios.ingest.app:create_app").
                target = re.fullmatch(r"((?:aios|services)(?:\.\w+)+):\w+", node.value)
                pending += [target.group(1)] if target else []
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(
                        [*package.split(".")[: len(package.split(".")) - node.level + 1], *filter(None, [base])]
                    )
                names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            every.update(names)
            for name in names:
                top = name.split(".")[0]
                if top in first_party:
                    pending.append(name)
                elif top and top not in sys.stdlib_module_names and top != "__future__":
                    imported.add(top)
                    sources.setdefault(top, module)
    return imported, sources, every


ALL_CHECKS = (
    check_images,
    check_every_service_deployed,
    check_commands,
    check_variables,
    check_ports,
    check_health_and_restarts,
    check_endpoints,
    check_kafka,
    check_init,
    check_keys,
    check_otel,
    check_jaeger,
    check_dockerfile,
    check_package_data,
    check_dependencies,
)
