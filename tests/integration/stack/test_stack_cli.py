"""`aios stack` as a user runs it: idempotent up, machine-readable status, loud failures."""

from __future__ import annotations

import json
import socket
import time

import httpx

from aios.observability.tracing import TracingSettings, configure_tracing, flush_tracing, span_from
from aios.stack.stack import LocalStack
from tests.support.cli import aios


def test_status_json_names_every_endpoint_and_the_broker(local_stack: LocalStack) -> None:
    result = aios("stack", "status", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    for key in ("kafka_bootstrap", "schema_registry_url", "postgres_dsn", "redis_url", "prometheus_url", "broker"):
        assert status[key], key
    assert status["broker"].startswith("apache-kafka 4.")
    assert status["jaeger_url"] == f"http://127.0.0.1:{local_stack.settings.jaeger_query_port}"
    assert status["components"]["jaeger"] is True
    assert status["healthy"] is True


def test_jaeger_stores_the_spans_services_export_by_default_and_answers_queries(local_stack: LocalStack) -> None:
    """No tracing setting at all: a span goes to the stack's Jaeger and comes back from its query API."""
    configure_tracing("stack-test")
    try:
        with span_from("stack-test", "stack-test probe", {}) as carrier:
            pass
        flush_tracing()
    finally:
        configure_tracing("stack-test", TracingSettings(otlp_endpoint=""))
    trace_id = carrier["traceparent"].split("-")[1]
    jaeger = local_stack.endpoints()["jaeger_url"]
    deadline = time.monotonic() + 30
    while (response := httpx.get(f"{jaeger}/api/traces/{trace_id}", timeout=5)).status_code != 200:
        assert time.monotonic() < deadline, response.text
        time.sleep(0.5)
    ((stored,),) = [trace["spans"] for trace in response.json()["data"]]
    assert stored["operationName"] == "stack-test probe"
    assert response.json()["data"][0]["processes"][stored["processID"]]["serviceName"] == "aios-stack-test"


def test_up_twice_changes_nothing(local_stack: LocalStack) -> None:
    before = json.loads(aios("stack", "status", "--json").stdout)
    result = aios("stack", "up")
    assert result.returncode == 0, result.stderr
    assert "created" not in result.stdout
    assert json.loads(aios("stack", "status", "--json").stdout) == before


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def second_stack_env(local_stack: LocalStack, name: str, **ports: int) -> dict[str, str]:
    """A second stack under .aios/ (readable by the postgres user) on free ports unless given."""
    env = {"AIOS_STACK_STATE_DIR": str(local_stack.settings.state_dir / name)}
    for component in ("postgres", "redis", "kafka", "registry", "prometheus", "jaeger_otlp", "jaeger_query"):
        env[f"AIOS_STACK_{component.upper()}_PORT"] = str(ports.get(component) or free_port())
    return env


def test_a_port_held_by_another_process_fails_at_once(local_stack: LocalStack) -> None:
    env = second_stack_env(local_stack, "port-clash", postgres=local_stack.settings.postgres_port)
    try:
        result = aios("stack", "up", env=env)
        assert result.returncode == 1
        assert (
            f"postgres cannot start: 127.0.0.1:{local_stack.settings.postgres_port} is already in use" in result.stderr
        )
    finally:
        aios("stack", "down", "--purge", env=env)


def test_a_component_that_dies_fails_with_its_log_tail(local_stack: LocalStack) -> None:
    """A JVM heap too small to boot: `up` exits 1 and shows what Kafka said."""
    env = {**second_stack_env(local_stack, "kafka-dies"), "AIOS_STACK_KAFKA_HEAP": "1k"}
    try:
        result = aios("stack", "up", env=env)
        assert result.returncode == 1
        assert "kafka-1 exited before" in result.stderr
        assert "last lines of its log" in result.stderr
        assert "heap" in result.stderr.lower()
    finally:
        aios("stack", "down", "--purge", env=env)
