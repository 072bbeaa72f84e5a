"""Review sign-in under guessing: throttled per account and per address (in Redis), hashing off the event loop,
and a sign-in form token only the server can make. Each test signs in from addresses of its own
(`X-Forwarded-For`, which uvicorn trusts from 127.0.0.1) and with accounts of its own, so the counts
in the shared Redis are its own."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from aios.db.scratch import scratch_database
from aios.kafka.scratch import ScratchTopics
from aios.settings import ConnectionSettings
from tests.support.decide import create_tenant_with_policy
from tests.support.review import ReviewProcess, add_reviewer, stopped_cleanly

PASSWORD = "correct horse battery staple"
LOCKOUT_S = 6


@dataclass(frozen=True)
class Env:
    url: str
    tenant: str
    dsn: str


@pytest.fixture(scope="module")
def env(connection: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with (
        ScratchTopics(connection.kafka_bootstrap, connection.schema_registry_url) as scratch,
        scratch_database(connection.postgres_dsn.get_secret_value()) as dsn,
    ):
        tenant = f"signin-{uuid.uuid4().hex[:8]}"
        create_tenant_with_policy(dsn, tenant, None)
        review = ReviewProcess(
            connection,
            dsn,
            scratch.make("aios.review.requested"),
            scratch.make("aios.review.completed"),
            scratch.make("aios.deadletter"),
            tmp_path_factory.mktemp("review-signin"),
            signin_free_failures="3",
            signin_lockout_failures="6",
            signin_address_free_failures="5",
            signin_address_lockout_failures="30",
            signin_delay_s="1",
            signin_lockout_s=str(LOCKOUT_S),
        )
        review.start()
        try:
            yield Env(review.url, tenant, dsn)
        finally:
            assert stopped_cleanly(review.stop()), review.tail()


def reviewer(env: Env) -> str:
    username = f"r-{uuid.uuid4().hex[:10]}"
    add_reviewer(env.dsn, env.tenant, username, PASSWORD)
    return username


def address() -> str:
    """An address of the documentation range, never seen before."""
    return f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"


class SignIn:
    """One browser-like client from one address: the sign-in page's cookie and token, then attempts."""

    def __init__(self, env: Env, client_address: str | None = None) -> None:
        self.env = env
        self.client = httpx.Client(
            base_url=env.url, headers={"X-Forwarded-For": client_address or address()}, timeout=60
        )
        self.client.get("/login").raise_for_status()
        self.token = self.client.cookies["aios_review_login_csrf"]

    def attempt(self, username: str, password: str) -> httpx.Response:
        form = {"tenant": self.env.tenant, "username": username, "password": password, "csrf_token": self.token}
        return self.client.post("/login", data=form)


def test_guessing_one_account_is_slowed_then_locked_out_even_for_the_right_password(env: Env) -> None:
    username = reviewer(env)
    signin = SignIn(env)
    assert [signin.attempt(username, "wrong password!").status_code for _ in range(4)] == [401] * 4
    slowed = signin.attempt(username, PASSWORD)  # the 4th failure set a wait of 1 s
    assert slowed.status_code == 429
    assert slowed.headers["Retry-After"] == "1"
    assert "Too many failed sign-ins" in slowed.text

    for wait_s in (1, 2):  # the 5th and 6th failures, each after the wait the one before set
        time.sleep(wait_s + 0.1)
        assert signin.attempt(username, "wrong password!").status_code == 401
    locked = SignIn(env).attempt(username, PASSWORD)  # another address: the account itself is locked
    assert locked.status_code == 429
    assert 1 < int(locked.headers["Retry-After"]) <= LOCKOUT_S

    time.sleep(LOCKOUT_S + 0.2)
    assert signin.attempt(username, PASSWORD).status_code == 303


def test_concurrent_guesses_cannot_slip_past_the_count(env: Env) -> None:
    username = reviewer(env)
    signin = SignIn(env)
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda _: signin.attempt(username, "wrong password!").status_code, range(16)))
    assert sorted(statuses) == [401] * 4 + [429] * 12  # the free 3, the one that set the wait; none more


def test_guessing_across_accounts_from_one_address_is_throttled(env: Env) -> None:
    accounts = [reviewer(env) for _ in range(7)]
    signin = SignIn(env)
    statuses = [signin.attempt(username, "wrong password!").status_code for username in accounts]
    assert statuses == [401] * 6 + [429]
    assert SignIn(env).attempt(reviewer(env), PASSWORD).status_code == 303  # other addresses are not slowed


def test_a_good_sign_in_takes_back_only_its_own_attempt_from_the_address(env: Env) -> None:
    known, others = reviewer(env), [reviewer(env) for _ in range(7)]
    signin = SignIn(env)
    for username in others[:3]:
        assert signin.attempt(username, "wrong password!").status_code == 401
        assert signin.attempt(known, PASSWORD).status_code == 303
        signin = SignIn(env, signin.client.headers["X-Forwarded-For"])
    assert [signin.attempt(username, "wrong password!").status_code for username in others[3:]] == [401] * 3 + [429]


def test_the_page_stays_answering_while_clients_guess(env: Env) -> None:
    """Argon2 runs on a thread pool: 16 guessing clients must not hold up the health check."""
    clients = [(SignIn(env), reviewer(env)) for _ in range(16)]

    def guess(pair: tuple[SignIn, str]) -> list[int]:
        signin, username = pair
        return [signin.attempt(username, "wrong password!").status_code for _ in range(3)]

    with ThreadPoolExecutor(16) as pool:
        guesses = pool.map(guess, clients)
        time.sleep(0.5)
        health: list[float] = []
        with httpx.Client(base_url=env.url, timeout=30) as client:
            for _ in range(10):
                started = time.perf_counter()
                assert client.get("/healthz").status_code == 200
                health.append(time.perf_counter() - started)
                time.sleep(0.1)
        assert all(statuses == [401, 401, 401] for statuses in guesses)
    assert max(health) < 0.5, health


def test_a_sign_in_token_the_server_did_not_issue_is_refused(env: Env) -> None:
    """Today's double-submit check alone passes any cookie and form value that agree."""
    username = reviewer(env)
    with httpx.Client(base_url=env.url, headers={"X-Forwarded-For": address()}) as client:
        forged = "made-up-by-the-attacker"
        client.cookies.set("aios_review_login_csrf", forged)
        form = {"tenant": env.tenant, "username": username, "password": PASSWORD, "csrf_token": forged}
        refused = client.post("/login", data=form)
        assert refused.status_code == 403
        old = f"{int(time.time()) - 7200}.nonce.{'0' * 64}"
        client.cookies.set("aios_review_login_csrf", old)
        assert client.post("/login", data={**form, "csrf_token": old}).status_code == 403
    assert SignIn(env).attempt(username, PASSWORD).status_code == 303
