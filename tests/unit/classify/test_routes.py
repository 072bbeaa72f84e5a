"""Routing events to model versions: aliases per scope, canary share by event id, shadows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from aios.classify.routes import ModelRef, Route, RoutingTable, canary_bucket
from aios.inference.model_registry import AliasRow


def alias(name: str, alias_: str, version: int, tenant: str | None = None, share: float = 1.0) -> AliasRow:
    return AliasRow(name, alias_, tenant, version, share, 1, datetime.now(UTC))


def test_the_global_aliases_of_the_workers_model_make_the_default_route() -> None:
    table = RoutingTable.from_aliases(
        [
            alias("intents", "production", 3),
            alias("intents", "canary", 4, share=0.1),
            alias("intents", "shadow", 5),
            alias("other-model", "production", 9),
        ],
        "intents",
    )
    assert table.default == Route(ModelRef("intents", 3), ModelRef("intents", 4), 0.1, ModelRef("intents", 5))
    assert table.route_for("any-tenant") == table.default
    assert table.models() == {ModelRef("intents", 3), ModelRef("intents", 4), ModelRef("intents", 5)}


def test_a_tenant_with_its_own_model_gets_its_labels_and_not_the_global_canary() -> None:
    table = RoutingTable.from_aliases(
        [
            alias("intents", "production", 3),
            alias("intents", "canary", 4, share=0.5),
            alias("acme-intents", "production", 1, tenant="acme"),
        ],
        "intents",
    )
    assert table.route_for("acme") == Route(ModelRef("acme-intents", 1))
    assert table.route_for("globex") == table.default


def test_a_tenant_alias_overrides_only_its_own_alias() -> None:
    table = RoutingTable.from_aliases(
        [alias("intents", "production", 3), alias("intents", "canary", 4, tenant="acme", share=0.2)], "intents"
    )
    assert table.route_for("acme") == Route(ModelRef("intents", 3), ModelRef("intents", 4), 0.2)
    assert table.route_for("globex") == Route(ModelRef("intents", 3))


def test_nothing_promoted_means_no_route() -> None:
    table = RoutingTable.from_aliases([alias("intents", "canary", 4)], "intents")
    assert table.route_for("acme") is None
    assert table.models() == set()


@pytest.mark.parametrize("share", [0.0, 0.1, 0.5, 1.0])
def test_the_canary_takes_its_share_of_event_ids(share: float) -> None:
    route = Route(ModelRef("m", 1), ModelRef("m", 2), share)
    ids = [str(uuid.UUID(int=n * 7919 + 13)) for n in range(4000)]
    canary = sum(route.choose(event_id) == (ModelRef("m", 2), "canary") for event_id in ids)
    assert canary / len(ids) == pytest.approx(share, abs=0.03)


def test_an_event_goes_to_the_same_version_every_time() -> None:
    route = Route(ModelRef("m", 1), ModelRef("m", 2), 0.5)
    event_id = str(uuid.uuid4())
    assert len({route.choose(event_id) for _ in range(10)}) == 1
    assert 0 <= canary_bucket(event_id) < 1


def test_versions_that_cannot_load_are_routed_around() -> None:
    previous = RoutingTable.from_aliases([alias("intents", "production", 3)], "intents")
    wanted = RoutingTable.from_aliases(
        [
            alias("intents", "production", 4),
            alias("intents", "canary", 5, share=0.3),
            alias("intents", "shadow", 6),
            alias("acme-intents", "production", 1, tenant="acme"),
        ],
        "intents",
        revision=7,
    )
    served = wanted.restricted_to({ModelRef("intents", 3), ModelRef("intents", 6)}, previous)
    assert served.default == Route(ModelRef("intents", 3)), "a broken production keeps the previous one"
    assert served.route_for("acme") == served.default, "a tenant whose model cannot load falls back"
    assert served.revision == 7

    healthy = wanted.restricted_to({ModelRef("intents", 4), ModelRef("intents", 6)}, previous)
    assert healthy.default == Route(ModelRef("intents", 4), shadow=ModelRef("intents", 6))
