"""Which model version classifies an event: production, a canary share of it, and a shadow.

Built from the registry's alias rows. A tenant's own aliases override the global aliases of the
worker's model one by one (a tenant may have its own production model with its own label set, or
only its own canary); a canary or shadow of another model than the production one is dropped,
since its labels would not mean the same. A canary takes the events whose id hashes below its
share, so a record read again after a crash goes to the same version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from aios.inference.model_registry import AliasRow


@dataclass(frozen=True, order=True)
class ModelRef:
    name: str
    version: int

    def __str__(self) -> str:
        return f"{self.name}:{self.version}"


@dataclass(frozen=True)
class Route:
    """The versions one scope (a tenant, or everyone) is classified with."""

    production: ModelRef
    canary: ModelRef | None = None
    canary_share: float = 0.0
    shadow: ModelRef | None = None

    def choose(self, event_id: str) -> tuple[ModelRef, str]:
        """The deciding version for an event and the alias that chose it."""
        if self.canary is not None and canary_bucket(event_id) < self.canary_share:
            return self.canary, "canary"
        return self.production, "production"


@dataclass(frozen=True)
class RoutingTable:
    """Routes of tenants with aliases of their own, and the default route."""

    default: Route | None
    tenants: dict[str, Route] = field(default_factory=dict)
    revision: int = 0

    @classmethod
    def from_aliases(cls, rows: Iterable[AliasRow], model_name: str, revision: int = 0) -> RoutingTable:
        """Global aliases of `model_name` make the default route; tenant aliases of any model make theirs."""
        everyone: dict[str, AliasRow] = {}
        scopes: dict[str, dict[str, AliasRow]] = {}
        for row in rows:
            if row.tenant is not None:
                scopes.setdefault(row.tenant, {})[row.alias] = row
            elif row.name == model_name:
                everyone[row.alias] = row
        tenants = {
            tenant: route for tenant, own in scopes.items() if (route := _route({**everyone, **own})) is not None
        }
        return cls(_route(everyone), tenants, revision)

    def restricted_to(self, servable: set[ModelRef], previous: RoutingTable) -> RoutingTable:
        """This table without versions that could not be loaded.

        A canary or shadow that cannot load is dropped; a production version that cannot load keeps
        the scope on its previous route (or the default), so a bad promotion never stops classification.
        """

        def usable(route: Route | None, fallback: Route | None) -> Route | None:
            if route is None:
                return None
            if route.production not in servable:
                return fallback
            return Route(
                route.production,
                route.canary if route.canary in servable else None,
                route.canary_share if route.canary in servable else 0.0,
                route.shadow if route.shadow in servable else None,
            )

        default = usable(self.default, previous.default)
        tenants = {
            tenant: kept
            for tenant, route in self.tenants.items()
            if (kept := usable(route, previous.tenants.get(tenant))) is not None
        }
        return RoutingTable(default, tenants, self.revision)

    def serving(self) -> bool:
        """Events can be classified once every tenant has a route (the default one at least)."""
        return self.default is not None

    def route_for(self, tenant_id: str) -> Route | None:
        return self.tenants.get(tenant_id, self.default)

    def models(self) -> set[ModelRef]:
        """Every version some event may be sent to: what a worker must have loaded."""
        routes = [*self.tenants.values(), *([self.default] if self.default else [])]
        return {ref for route in routes for ref in (route.production, route.canary, route.shadow) if ref is not None}


def canary_bucket(event_id: str) -> float:
    """A uniform number in [0, 1) fixed by the event id (the same in every worker and on every retry)."""
    digest = hashlib.sha256(event_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _route(aliases: dict[str, AliasRow]) -> Route | None:
    """A scope's route, or None without a production alias."""
    production = aliases.get("production")
    if production is None:
        return None
    canary, shadow = (
        row if row is not None and row.name == production.name else None
        for row in (aliases.get("canary"), aliases.get("shadow"))
    )
    return Route(
        production=ModelRef(production.name, production.version),
        canary=ModelRef(canary.name, canary.version) if canary else None,
        canary_share=canary.share if canary else 0.0,
        shadow=ModelRef(shadow.name, shadow.version) if shadow else None,
    )
