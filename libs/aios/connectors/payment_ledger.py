"""Which action pays each business reference (`payment_references`, migration 0032): one payout per invoice or claim.

The idempotency key of a payout is its action id, which repeats only within one event's decision;
a second document of the same invoice is another event. The ledger closes that gap: a reference is
reserved by the first action that pays it, atomically, and whoever holds it is the only one that
may call the payout system for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

_HOLDER = """
SELECT r.action_id, r.event_id, coalesce(a.status IN ('waiting', 'pending', 'running'), false) AS in_progress
FROM payment_references AS r LEFT JOIN act_actions AS a ON a.action_id = r.action_id
WHERE r.tenant_id = $1 AND r.reference = $2
"""


@dataclass(frozen=True)
class Holder:
    """The action that holds a reference."""

    action_id: str
    event_id: str
    in_progress: bool
    """Its action has not finished yet (it may still pay, or be retrying a payout)."""


class PaymentLedger:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def reserve(self, tenant_id: str, reference: str, action_id: str, event_id: str) -> Holder:
        """Reserve `reference` for `action_id` unless an action holds it already; the holder either way.

        Two statements, not one: a conflicting insert waits for the other transaction's commit, and
        only a statement begun after it (read committed) sees the row that won.
        """
        async with self._pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO payment_references (tenant_id, reference, action_id, event_id) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (tenant_id, reference) DO NOTHING",
                tenant_id,
                reference,
                action_id,
                event_id,
            )
            row = await conn.fetchrow(_HOLDER, tenant_id, reference)
        return Holder(row["action_id"], row["event_id"], row["in_progress"])

    async def take_over(self, tenant_id: str, reference: str, previous: str, action_id: str, event_id: str) -> bool:
        """Hand the reference from `previous` (finished, no live payout) to `action_id`; False if it moved meanwhile."""
        taken = await self._pool.fetchval(
            "UPDATE payment_references SET action_id = $4, event_id = $5, payout_id = NULL, reserved_at = now(),"
            " paid_at = NULL, cancelled_at = NULL WHERE tenant_id = $1 AND reference = $2 AND action_id = $3"
            " RETURNING true",
            tenant_id,
            reference,
            previous,
            action_id,
            event_id,
        )
        return bool(taken)

    async def paid(self, tenant_id: str, reference: str, action_id: str, payout_id: str) -> None:
        await self._pool.execute(
            "UPDATE payment_references SET payout_id = $4, paid_at = coalesce(paid_at, now())"
            " WHERE tenant_id = $1 AND reference = $2 AND action_id = $3",
            tenant_id,
            reference,
            action_id,
            payout_id,
        )

    async def cancelled(self, tenant_id: str, payout_id: str) -> None:
        await self._pool.execute(
            "UPDATE payment_references SET cancelled_at = coalesce(cancelled_at, now())"
            " WHERE tenant_id = $1 AND payout_id = $2",
            tenant_id,
            payout_id,
        )
