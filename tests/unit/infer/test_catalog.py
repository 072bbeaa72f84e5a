"""Which version answers a tenant's call to a model name."""

from __future__ import annotations

from datetime import UTC, datetime

from aios.classify.routes import ModelRef, Route
from aios.infer.catalog import ModelCatalog
from aios.inference.model_registry import AliasRow


def alias(name: str, alias_: str, version: int, tenant: str | None = None, share: float = 1.0) -> AliasRow:
    return AliasRow(name, alias_, tenant, version, share, 1, datetime.now(UTC))


CATALOG = ModelCatalog.from_aliases(
    [
        alias("intents", "production", 3),
        alias("intents", "canary", 4, share=0.2),
        alias("intents", "production", 7, tenant="acme"),
        alias("acme-intents", "production", 1, tenant="acme"),
        alias("claims", "production", 2),
        alias("claims", "shadow", 5),
    ],
    revision=9,
)


def test_every_name_routes_on_its_own_aliases() -> None:
    assert CATALOG.route("intents", "globex") == Route(ModelRef("intents", 3), ModelRef("intents", 4), 0.2)
    assert CATALOG.route("claims", "acme") == Route(ModelRef("claims", 2), shadow=ModelRef("claims", 5))
    assert CATALOG.route("unknown", "acme") is None


def test_a_tenants_own_aliases_override_for_it_alone() -> None:
    # acme's own production of `intents`, the global canary still applies to it.
    assert CATALOG.route("intents", "acme") == Route(ModelRef("intents", 7), ModelRef("intents", 4), 0.2)
    # Its own model is its own: a tenant alias of `acme-intents` does not leak into `intents` or to others.
    assert CATALOG.route("acme-intents", "acme") == Route(ModelRef("acme-intents", 1))
    assert CATALOG.route("acme-intents", "globex") is None


def test_versions_that_cannot_load_are_routed_around() -> None:
    servable = CATALOG.models() - {ModelRef("intents", 4), ModelRef("claims", 2)}
    served = CATALOG.restricted_to(servable, ModelCatalog())
    assert served.route("intents", "globex") == Route(ModelRef("intents", 3))
    assert served.route("claims", "globex") is None, "a production that cannot load, with nothing before it"
    assert served.revision == 9 and served.serving()
    assert not ModelCatalog().serving(), "nothing is answered before the registry was read once"
