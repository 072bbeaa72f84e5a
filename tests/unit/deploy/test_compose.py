"""docker-compose.yml and the Dockerfile against the code they deploy, without a Docker engine.

The first tests run every check of tests/support/deployment.py on the files as committed. The rest
break a copy on purpose, one drift at a time (a renamed module, a misspelt variable, a moved port,
an unpinned image, a missing broker...), and show that the check that should notice it does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.deployment import (
    ALL_CHECKS,
    Deployment,
    check_commands,
    check_dependencies,
    check_dockerfile,
    check_endpoints,
    check_every_service_deployed,
    check_health_and_restarts,
    check_images,
    check_init,
    check_jaeger,
    check_kafka,
    check_keys,
    check_otel,
    check_package_data,
    check_ports,
    check_prometheus,
    check_variables,
)


@pytest.fixture(scope="module")
def deployment() -> Deployment:
    return Deployment.load()


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda check: check.__name__)
def test_the_committed_files_pass(deployment: Deployment, check: Callable[[Deployment], list[str]]) -> None:
    assert check(deployment) == []


def test_prometheus_scrapes_every_service_and_promtool_accepts_its_config(
    deployment: Deployment, tmp_path: Path
) -> None:
    assert check_prometheus(deployment, tmp_path) == []


def test_a_prometheus_anyone_can_stop_is_reported(deployment: Deployment, tmp_path: Path) -> None:
    broken = deployment.copy()
    prometheus = next(svc for svc in broken.services.values() if svc["image"].startswith("prom/prometheus:"))
    prometheus["command"] = [*prometheus["command"], "--web.enable-lifecycle"]
    assert check_prometheus(broken, tmp_path) == [
        "Prometheus runs with --web.enable-lifecycle: whoever reaches it can stop it (POST /-/quit)"
    ]


def test_every_catalogue_service_runs_from_the_one_image(deployment: Deployment) -> None:
    modules = {deployment.module(name) for name in deployment.aios_services()}
    assert set(deployment.catalogue()) <= modules
    assert {svc["image"] for svc in deployment.aios_services().values()} == {deployment.image}


# --- Drift: each mutation must be reported by its check. ------------------------------------------------


def _set_env(name: str, **values: str) -> Callable[[Deployment], None]:
    def mutate(d: Deployment) -> None:
        # Replaced, not updated: services share one environment mapping through a YAML anchor.
        d.services[name]["environment"] = {**d.services[name]["environment"], **values}

    return mutate


def _set(name: str, key: str, value: Any) -> Callable[[Deployment], None]:
    def mutate(d: Deployment) -> None:
        d.services[name][key] = value

    return mutate


def _drop(name: str, key: str | None = None) -> Callable[[Deployment], None]:
    def mutate(d: Deployment) -> None:
        if key is None:
            del d.services[name]
        else:
            d.services[name].pop(key)

    return mutate


def _rename(old: str, new: str) -> Callable[[Deployment], None]:
    def mutate(d: Deployment) -> None:
        d.services[new] = d.services.pop(old)

    return mutate


def _duplicate(old: str, new: str) -> Callable[[Deployment], None]:
    def mutate(d: Deployment) -> None:
        d.services[new] = dict(d.services[old])

    return mutate


def _dockerfile(old: str, new: str) -> Callable[[Deployment], None]:
    def mutate(d: Deployment) -> None:
        assert old in d.dockerfile_text
        d.dockerfile_text = d.dockerfile_text.replace(old, new)

    return mutate


def _without_dependency(prefix: str) -> Callable[[Deployment], None]:
    def mutate(d: Deployment) -> None:
        project = d.pyproject["project"]
        project["dependencies"] = [r for r in project["dependencies"] if not r.startswith(prefix)]

    return mutate


def _without_package_data(package: str) -> Callable[[Deployment], None]:
    def mutate(d: Deployment) -> None:
        del d.pyproject["tool"]["setuptools"]["package-data"][package]

    return mutate


def _init_waits_for(broker: str, condition: str) -> Callable[[Deployment], None]:
    def mutate(d: Deployment) -> None:
        d.services["init"]["depends_on"] = {**d.services["init"]["depends_on"], broker: {"condition": condition}}

    return mutate


_INIT = ["sh", "-ec", "aios topics apply && aios schemas register"]

DRIFTS = [
    ("module renamed", _set("classify", "command", ["python", "-m", "services.clasify"]), check_commands, "no module"),
    ("no __main__", _set("decide", "command", ["python", "-m", "services"]), check_commands, "has no __main__"),
    (
        "CLI command renamed",
        _set("init", "command", [*_INIT[:2], "aios topics aply && aios schemas register"]),
        check_commands,
        "has no command 'aply'",
    ),
    (
        "CLI option unknown",
        _set("init", "command", [*_INIT[:2], "aios topics apply --all && aios schemas register"]),
        check_commands,
        "No such option",
    ),
    ("other executable", _set("act", "command", ["act-server"]), check_commands, "neither"),
    ("variable misspelt", _set_env("ingest", AIOS_INGEST_WORKER="2"), check_variables, "AIOS_INGEST_WORKER is no"),
    ("value invalid", _set_env("classify", AIOS_CLASSIFY_BACKEND="tritn"), check_variables, "rejects"),
    ("port moved", _set_env("ingest", AIOS_INGEST_PORT="9000"), check_ports, "says port 28000"),
    ("port not exposed", _set("classify", "expose", []), check_ports, "does not expose"),
    ("published elsewhere", _set("ingest", "ports", ["127.0.0.1:18000:28000"]), check_ports, "host port 18000"),
    ("default unreachable", _set("redis", "ports", []), check_ports, "redis_url"),
    (
        "health path",
        _set("audit", "healthcheck", {"test": ["CMD", "curl", "-f", "http://127.0.0.1:28060/health"]}),
        check_health_and_restarts,
        "answers at http://127.0.0.1:28060/healthz",
    ),
    (
        "health port",
        _set("triton", "healthcheck", {"test": ["CMD", "curl", "-f", "http://127.0.0.1:28102/v2/health/ready"]}),
        check_health_and_restarts,
        "28100/v2/health/ready",
    ),
    ("no health check", _drop("act", "healthcheck"), check_health_and_restarts, "health check None"),
    ("no restart", _drop("act", "restart"), check_health_and_restarts, "no restart policy"),
    ("no limits", _drop("triton", "deploy"), check_health_and_restarts, "no cpus and memory limits"),
    ("unpinned", _set("redis", "image", "redis"), check_images, "not pinned"),
    ("latest", _set("postgres", "image", "postgres:latest"), check_images, "not pinned"),
    ("own image", _set("decide", "image", "aios:dev"), check_images, "is not 'aios:0.1.0'"),
    ("not built", _drop("decide", "build"), check_images, "not built from the Dockerfile"),
    ("unpinned base", _dockerfile("python:3.11.10-slim-bookworm", "python:3-slim"), check_images, "base image"),
    ("service missing", _drop("lag-exporter"), check_every_service_deployed, "lag-exporter"),
    ("service renamed", _rename("retrieve-generate", "rg"), check_every_service_deployed, "names it"),
    ("to localhost", _set_env("ingest", AIOS_REDIS_URL="redis://127.0.0.1:6379/0"), check_endpoints, "port 6379"),
    (
        "wrong port",
        _set_env("ingest", AIOS_SCHEMA_REGISTRY_URL="http://schema-registry:8081"),
        check_endpoints,
        "schema-registry exposes [28081]",
    ),
    ("unknown host", _set_env("act", AIOS_REDIS_URL="redis://cache:6379/0"), check_endpoints, "cache is no service"),
    ("two brokers", _drop("kafka-3"), check_kafka, "2 apache/kafka brokers"),
    ("min ISR", _set_env("kafka-2", KAFKA_MIN_INSYNC_REPLICAS="1"), check_kafka, "KAFKA_MIN_INSYNC_REPLICAS=1"),
    ("replication", _set_env("kafka-1", KAFKA_DEFAULT_REPLICATION_FACTOR="1"), check_kafka, "default replication 1"),
    (
        "quorum",
        _set_env("kafka-3", KAFKA_CONTROLLER_QUORUM_VOTERS="1@kafka-1:9093,2@kafka-2:9093"),
        check_kafka,
        "disagree",
    ),
    (
        "advertised",
        _set_env("kafka-2", KAFKA_ADVERTISED_LISTENERS="INTERNAL://kafka-1:19092,EXTERNAL://localhost:29192"),
        check_kafka,
        "advertises",
    ),
    ("bootstrap", _set_env("audit", AIOS_KAFKA_BOOTSTRAP="kafka-1:19092"), check_kafka, "is not every broker"),
    ("init early", _init_waits_for("kafka-3", "service_started"), check_init, "before kafka-3 is healthy"),
    ("no schemas", _set("init", "command", ["aios", "topics", "apply"]), check_init, "aios schemas register"),
    ("no wait", _set("review", "depends_on", {}), check_init, "review: does not wait"),
    ("keys apart", _set("extract", "volumes", []), check_keys, "extract: AIOS_KEYS_DIR /var/lib/aios/keys is not"),
    ("other keys", _set("act", "volumes", ["act-keys:/var/lib/aios/keys"]), check_keys, "in volume ['act-keys']"),
    ("spans lost", _set_env("decide", AIOS_TRACING_OTLP_ENDPOINT="http://otel-collector:4317"), check_otel, "4318"),
    ("other Jaeger", _set("jaeger", "image", "jaegertracing/jaeger:2.12.0"), check_jaeger, "not jaegertracing/jaeger"),
    ("Jaeger's own config", _set("jaeger", "volumes", []), check_jaeger, "does not run infra/jaeger/jaeger.yaml"),
    ("OTLP unset", _set("jaeger", "environment", {}), check_jaeger, "JAEGER_OTLP_HTTP (an address of its config)"),
    ("OTLP hidden", _set("jaeger", "expose", ["4317", "26685", "26686"]), check_jaeger, "JAEGER_OTLP_HTTP=0.0.0.0"),
    ("UI elsewhere", _set("jaeger", "ports", ["127.0.0.1:16686:26686"]), check_jaeger, "not on the host's 26686"),
    ("no trace URL", _set_env("act", AIOS_JAEGER_URL="http://jaeger:16686"), check_jaeger, "act: AIOS_JAEGER_URL"),
    ("root", _dockerfile("USER aios", "USER root"), check_dockerfile, "runs as root"),
    ("old python", _dockerfile("python:3.11.10-slim", "python:3.10.15-slim"), check_dockerfile, ">=3.11"),
    ("no ml extra", _dockerfile('".[ml]"', '"."'), check_dockerfile, "`ml` extra"),
    ("CUDA torch", _dockerfile("whl/cpu", "whl/cu126"), check_dockerfile, "CPU wheel index"),
    ("old torch", _dockerfile("TORCH_VERSION=2.15.0", "TORCH_VERSION=2.2.0"), check_dockerfile, "does not satisfy"),
    ("no data", _dockerfile("COPY data ./data\n", ""), check_dockerfile, "reads data/"),
    ("no sources", _dockerfile("COPY services ./services\n", ""), check_dockerfile, "does not copy services"),
    ("AIOS_HOME", _dockerfile("AIOS_HOME=/app", "AIOS_HOME=/srv"), check_dockerfile, "is not the runtime WORKDIR"),
    ("bad CMD", _dockerfile('CMD ["aios", "--help"]', 'CMD ["aios", "serve"]'), check_dockerfile, "no command 'serve'"),
    ("image variable", _dockerfile("AIOS_METRICS_HOST=", "AIOS_METRICS_ADDR="), check_variables, "ENV AIOS_METRICS"),
    ("templates", _without_package_data("aios.review"), check_package_data, "review/templates"),
    ("multipart", _without_dependency("python-multipart"), check_dependencies, "python-multipart"),
    ("argon2", _without_dependency("argon2-cffi"), check_dependencies, "argon2"),
]


@pytest.mark.parametrize(("mutate", "check", "expected"), [d[1:] for d in DRIFTS], ids=[d[0] for d in DRIFTS])
def test_a_drift_is_reported(
    deployment: Deployment,
    mutate: Callable[[Deployment], None],
    check: Callable[[Deployment], list[str]],
    expected: str,
) -> None:
    broken = deployment.copy()
    mutate(broken)
    problems = check(broken)
    assert any(expected in problem for problem in problems), problems


def test_a_service_prometheus_does_not_know_is_reported(deployment: Deployment, tmp_path: Path) -> None:
    broken = deployment.copy()
    _duplicate("classify", "classify-gpu")(broken)
    assert "Prometheus does not scrape classify-gpu:28010" in check_prometheus(broken, tmp_path)
