"""Every model name a tenant may call, and which version answers: production, a canary share, a shadow.

One `RoutingTable` per registry model name, built from that name's alias rows only: its global
aliases make the route everyone gets, a tenant's own aliases of the name override them for that
tenant. A model with only a tenant's aliases is that tenant's own: other tenants do not see it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aios.classify.routes import ModelRef, Route, RoutingTable
from aios.inference.model_registry import AliasRow


@dataclass(frozen=True)
class ModelCatalog:
    tables: Mapping[str, RoutingTable] = field(default_factory=dict)
    revision: int = -1

    @classmethod
    def from_aliases(cls, rows: Sequence[AliasRow], revision: int = 0) -> ModelCatalog:
        names = sorted({row.name for row in rows})
        return cls(
            {
                name: RoutingTable.from_aliases([row for row in rows if row.name == name], name, revision)
                for name in names
            },
            revision,
        )

    def route(self, name: str, tenant_id: str) -> Route | None:
        """The tenant's route to model `name`; None when the tenant may not call it."""
        table = self.tables.get(name)
        return table.route_for(tenant_id) if table is not None else None

    def models(self) -> set[ModelRef]:
        return {ref for table in self.tables.values() for ref in table.models()}

    def restricted_to(self, servable: set[ModelRef], previous: ModelCatalog) -> ModelCatalog:
        """Each name's table without versions that could not be loaded (see `RoutingTable.restricted_to`)."""
        return ModelCatalog(
            {
                name: table.restricted_to(servable, previous.tables.get(name, RoutingTable(default=None)))
                for name, table in self.tables.items()
            },
            self.revision,
        )

    def serving(self) -> bool:
        """Any loaded catalogue can answer: a name without a servable route is a 404, not a wait."""
        return self.revision >= 0
