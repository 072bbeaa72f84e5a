"""The review pages over TLS with a certificate from the stack's CA: HSTS, framing refused, idle sessions end."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aios.db.scratch import scratch_database
from aios.kafka.scratch import ScratchTopics
from aios.settings import ConnectionSettings
from tests.support.decide import create_tenant_with_policy
from tests.support.review import ReviewProcess, add_reviewer, stopped_cleanly

PASSWORD = "correct horse battery staple"
IDLE_S = 10


@pytest.fixture(scope="module")
def review(
    connection: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ReviewProcess, str]]:
    state_dir: Path = tmp_path_factory.mktemp("review-tls-stack")
    with (
        ScratchTopics(connection.kafka_bootstrap, connection.schema_registry_url) as scratch,
        scratch_database(connection.postgres_dsn.get_secret_value()) as dsn,
    ):
        tenant = f"tls-{uuid.uuid4().hex[:8]}"
        create_tenant_with_policy(dsn, tenant, None)
        add_reviewer(dsn, tenant, "alice", PASSWORD)
        process = ReviewProcess(
            connection,
            dsn,
            scratch.make("aios.review.requested"),
            scratch.make("aios.review.completed"),
            scratch.make("aios.deadletter"),
            tmp_path_factory.mktemp("review-tls"),
            stack_state_dir=state_dir,
            tls="true",
            session_idle_s=str(IDLE_S),
        )
        process.start()
        try:
            yield process, tenant
        finally:
            assert stopped_cleanly(process.stop()), process.tail()


def test_served_over_tls_with_the_stacks_ca_and_its_headers(review: tuple[ReviewProcess, str]) -> None:
    process, _ = review
    assert process.url.startswith("https://")
    with pytest.raises(httpx.ConnectError):  # not a publicly trusted certificate: only the stack's CA vouches for it
        httpx.get(process.url + "/login")
    page = httpx.get(process.url + "/login", verify=process.verify)
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["strict-transport-security"].startswith("max-age=")
    assert page.headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "Secure" in page.headers["set-cookie"]


def test_a_session_ends_after_inactivity(review: tuple[ReviewProcess, str]) -> None:
    process, tenant = review
    with httpx.Client(base_url=process.url, verify=process.verify) as client:
        client.get("/login").raise_for_status()
        token = client.cookies["aios_review_login_csrf"]
        signed = client.post(
            "/login", data={"tenant": tenant, "username": "alice", "password": PASSWORD, "csrf_token": token}
        )
        assert signed.status_code == 303
        for _ in range(3):  # activity keeps it alive past the idle limit
            time.sleep(IDLE_S / 2)
            assert client.get("/").status_code == 200
        time.sleep(IDLE_S + 1)
        idle = client.get("/")
        assert idle.status_code in (302, 303) and idle.headers["location"].endswith("/login")
