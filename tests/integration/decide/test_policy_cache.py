"""The decide service's policy cache against a real migrated PostgreSQL: when a new policy decides."""

from __future__ import annotations

import asyncio
import time

from aios.db.pool import open_pool
from aios.decide.policies import PolicyCache
from aios.policy.loading import load_policy
from aios.policy.store import PolicyStore
from aios.tenants.store import TenantStore

POLICY = """\
tenant: "{tenant}"
rules:
  - name: routine
    when: {{intent: [balance]}}
    auto: {{reason: routine}}
default:
  review: {{reason: no rule}}
"""


def test_a_policy_applied_before_an_event_was_written_decides_it(migrated_database: str) -> None:
    """Right after a look at the revision, a policy applied next is still seen by a later event
    (once missed in the decide suite: the event went to review under "no policy")."""

    async def work() -> None:
        cache = PolicyCache(migrated_database, poll_interval_s=3600)
        follower = asyncio.create_task(cache.follow())
        try:
            await asyncio.wait_for(cache.wait_ready(), 30)
            async with open_pool(migrated_database) as pool:
                tenant_id = (await TenantStore(pool).create_tenant("fresh")).tenant_id
                await PolicyStore(pool).apply(tenant_id, load_policy(POLICY.format(tenant="fresh")))
            loaded = await cache.active(tenant_id, written_at=time.time())
            assert loaded is not None and loaded.policy.rules[0].name == "routine"
            # An event written before the last look does not cost another query: the answer stands.
            assert await cache.active("no-such-tenant", written_at=time.time() - 60) is None
        finally:
            follower.cancel()

    asyncio.run(work())
