"""Outcome callbacks: every final outcome of a tenant's events POSTed to the URL it registered.

Signed as the webhook connector signs (`AIOS-Signature`, the tenant's callback secret), with the
event id as `Idempotency-Key`. The notifier records one delivery per (tenant, event) in
PostgreSQL before it announces the outcome, so a redelivered record adds nothing and a crash
loses nothing; `CallbackSender` posts what is due, retries failures with doubling backoff up to
`callback_attempts`, and leases each row it sends, so several notifier instances never post the
same delivery at once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import asyncpg
import httpx

from aios.outcomes.settings import OutcomesSettings
from aios.outcomes.store import StoredOutcome
from aios.runtime.background import WakeableTask
from aios.tenants.secrets import new_webhook_secret
from aios.tenants.signatures import SIGNATURE_HEADER, signature_header
from aios.tenants.store import TenantStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssuedCallback:
    tenant_id: str
    url: str
    secret: str
    """What the receiver verifies `AIOS-Signature` with; shown once."""


@dataclass(frozen=True)
class DueDelivery:
    tenant_id: str
    event_id: str
    body: str
    attempts: int
    url: str
    secret: str


class CallbackStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def register(self, tenant: str, url: str) -> IssuedCallback:
        """Set the tenant's callback URL with a new signing secret (again: a new URL and secret)."""
        found = await TenantStore(self.pool).resolve(tenant)
        secret = new_webhook_secret()
        await self.pool.execute(
            """INSERT INTO outcome_callbacks (tenant_id, url, secret) VALUES ($1, $2, $3)
               ON CONFLICT (tenant_id)
               DO UPDATE SET url = EXCLUDED.url, secret = EXCLUDED.secret, created_at = now()""",
            found.tenant_id,
            url,
            secret,
        )
        return IssuedCallback(found.tenant_id, url, secret)

    async def remove(self, tenant: str) -> bool:
        """Stop calling back; deliveries still owed are dropped with it."""
        found = await TenantStore(self.pool).resolve(tenant)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM outcome_deliveries WHERE tenant_id = $1", found.tenant_id)
            removed = await conn.execute("DELETE FROM outcome_callbacks WHERE tenant_id = $1", found.tenant_id)
        return bool(removed != "DELETE 0")

    async def owe(self, outcomes: list[StoredOutcome]) -> None:
        """A delivery for each final outcome of a tenant with a callback; none twice for an event."""
        rows = [(o.tenant_id, o.event_id, o.to_json()) for o in outcomes if o.outcome.final]
        if rows:
            await self.pool.executemany(
                """INSERT INTO outcome_deliveries (tenant_id, event_id, body)
                   SELECT c.tenant_id, $2, $3 FROM outcome_callbacks c WHERE c.tenant_id::text = $1
                   ON CONFLICT DO NOTHING""",
                rows,
            )

    async def claim_due(self, limit: int, lease_s: float, max_attempts: int) -> list[DueDelivery]:
        """Deliveries due now, each leased for `lease_s` (it is due again then unless settled) and counted."""
        rows = await self.pool.fetch(
            """UPDATE outcome_deliveries d
               SET attempts = d.attempts + 1, due_at = now() + make_interval(secs => $2)
               FROM outcome_callbacks c
               WHERE c.tenant_id = d.tenant_id AND (d.tenant_id, d.event_id) IN (
                   SELECT tenant_id, event_id FROM outcome_deliveries
                   WHERE delivered_at IS NULL AND due_at <= now() AND attempts < $3
                   ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED)
               RETURNING d.tenant_id::text, d.event_id, d.body, d.attempts, c.url, c.secret""",
            limit,
            lease_s,
            max_attempts,
        )
        return [DueDelivery(*row) for row in rows]

    async def delivered(self, delivery: DueDelivery) -> None:
        await self.pool.execute(
            "UPDATE outcome_deliveries SET delivered_at = now(), last_error = NULL"
            " WHERE tenant_id = $1 AND event_id = $2",
            delivery.tenant_id,
            delivery.event_id,
        )

    async def failed(self, delivery: DueDelivery, error: str, retry_in_s: float) -> None:
        await self.pool.execute(
            "UPDATE outcome_deliveries SET last_error = $3, due_at = now() + make_interval(secs => $4)"
            " WHERE tenant_id = $1 AND event_id = $2",
            delivery.tenant_id,
            delivery.event_id,
            error,
            retry_in_s,
        )


class CallbackSender(WakeableTask):
    """Posts due deliveries; woken when the notifier owes new ones, and every `callback_interval_s`."""

    def __init__(self, store: CallbackStore, settings: OutcomesSettings, client: httpx.AsyncClient) -> None:
        super().__init__(settings.callback_interval_s, "outcome callbacks")
        self.store = store
        self.settings = settings
        self.client = client

    async def step(self) -> None:
        settings = self.settings
        lease_s = settings.callback_timeout_s * 2
        while due := await self.store.claim_due(settings.callback_batch, lease_s, settings.callback_attempts):
            for delivery in due:
                await self.send(delivery)
            if len(due) < settings.callback_batch:
                return

    async def send(self, delivery: DueDelivery) -> None:
        body = delivery.body.encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": delivery.event_id,
            SIGNATURE_HEADER: signature_header(delivery.secret, int(time.time()), body),
        }
        try:
            response = await self.client.post(
                delivery.url, content=body, headers=headers, timeout=self.settings.callback_timeout_s
            )
            error = None if response.is_success else f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        if error is None:
            await self.store.delivered(delivery)
            return
        retry_in_s = min(
            self.settings.callback_backoff_s * 2 ** (delivery.attempts - 1), self.settings.callback_max_backoff_s
        )
        if delivery.attempts >= self.settings.callback_attempts:
            event_id, attempts = delivery.event_id, delivery.attempts
            log.warning("outcome callback of event %s given up after %d attempts: %s", event_id, attempts, error)
        await self.store.failed(delivery, error, retry_in_s)
