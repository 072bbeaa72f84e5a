"""What a rollout moves: a model's aliases, or a tenant's active policy; and how it puts them back.

`apply(step)` makes the step's traffic share real; `restore(previous)` undoes everything the rollout
did, from what `snapshot()` recorded when it started.
"""

from __future__ import annotations

from typing import Any, Protocol

from aios.inference.errors import ModelNotFoundError
from aios.inference.model_registry import ModelRegistry
from aios.policy.loading import LoadedPolicy
from aios.policy.store import PolicyStore
from aios.rollout.errors import RolloutError
from aios.rollout.plan import Plan, Step

SHADOW, CANARY, PRODUCTION = "shadow", "canary", "production"


class Target(Protocol):
    async def snapshot(self) -> dict[str, Any]:
        """What `restore` needs to put things back as they are now."""
        ...

    async def apply(self, step: Step) -> None: ...

    async def restore(self, previous: dict[str, Any]) -> None: ...


class ModelAliases:
    """Shadow steps point `shadow` at the candidate, traffic steps `canary` with the step's share, the
    last step `production` (and drops the candidate's canary and shadow)."""

    def __init__(self, registry: ModelRegistry, name: str, version: int) -> None:
        self.registry = registry
        self.name = name
        self.version = version

    async def snapshot(self) -> dict[str, Any]:
        return {
            row.alias: {"version": row.version, "share": row.share}
            for row in await self.registry.aliases(self.name)
            if row.tenant is None
        }

    async def apply(self, step: Step) -> None:
        if step.shadow:
            await self.registry.promote(self.name, self.version, SHADOW)
        elif step.share < 1:
            await self._retire_own(SHADOW)
            await self.registry.promote(self.name, self.version, CANARY, share=step.share)
        else:
            await self.registry.promote(self.name, self.version, PRODUCTION)
            for alias in (CANARY, SHADOW):
                await self._retire_own(alias)

    async def restore(self, previous: dict[str, Any]) -> None:
        for alias in (PRODUCTION, CANARY, SHADOW):
            before = previous.get(alias)
            if before is not None:
                await self.registry.promote(self.name, before["version"], alias, share=before["share"])
            else:
                try:
                    await self.registry.retire(self.name, alias)
                except ModelNotFoundError:
                    continue

    async def _retire_own(self, alias: str) -> None:
        """Retire `alias` if it points at the candidate (another version's alias is left alone)."""
        current = {row.alias: row.version for row in await self.registry.aliases(self.name) if row.tenant is None}
        if current.get(alias) == self.version:
            await self.registry.retire(self.name, alias)


class TenantPolicy:
    """Shadow steps change nothing (the candidate is evaluated beside the active version on live events);
    the last step makes the candidate the active version."""

    def __init__(self, store: PolicyStore, tenant_id: str, candidate: LoadedPolicy) -> None:
        self.store = store
        self.tenant_id = tenant_id
        self.candidate = candidate

    async def snapshot(self) -> dict[str, Any]:
        active = await self.store.active()
        current = active.get(self.tenant_id)
        return {"version": current.version if current else None}

    async def apply(self, step: Step) -> None:
        if step.share == 1:
            await self.store.apply(self.tenant_id, self.candidate)

    async def restore(self, previous: dict[str, Any]) -> None:
        version = previous.get("version")
        if version is not None:
            await self.store.apply(self.tenant_id, await self.store.version(self.tenant_id, version))


def check_policy_plan(plan: Plan) -> None:
    """Decide has no traffic share for policies: a policy plan is shadow steps, then the switch."""
    partial = [step.name for step in plan.steps if 0 < step.share < 1]
    if partial:
        raise RolloutError(f"a policy is shadow-evaluated, then switched: steps {', '.join(partial)} have a share")
