"""TenantStore against the stack's PostgreSQL: issuing, rotating and checking credentials.

Every test makes its own tenants and sources (uuid names), so runs against a long-lived stack
neither see nor disturb each other.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest

from aios.tenants.errors import DuplicateTenantError, InvalidNameError, TenantNotFoundError, WebhookSourceTakenError
from aios.tenants.secrets import new_api_key
from aios.tenants.settings import TenantSettings
from aios.tenants.store import Tenant, TenantStore, WebhookSource

Unique = Callable[[str], str]
RunScenario = Callable[..., None]

NO_GRACE = TenantSettings(key_grace_s=0, webhook_secret_grace_s=0)


def test_created_tenant_is_found_by_its_key(on_store: RunScenario, unique: Unique) -> None:
    name = unique("tenant")

    async def scenario(store: TenantStore) -> None:
        issued = await store.create_tenant(name)
        assert issued.name == name
        assert issued.api_key.startswith("aios_")
        assert str(uuid.UUID(issued.tenant_id)) == issued.tenant_id
        tenant = Tenant(issued.tenant_id, name)
        assert await store.tenant_for_api_key(issued.api_key) == tenant
        assert tenant in await store.tenants()

    on_store(scenario)


def test_unknown_key_finds_no_tenant(on_store: RunScenario) -> None:
    async def scenario(store: TenantStore) -> None:
        for key in (new_api_key(), "", "not-a-key"):
            assert await store.tenant_for_api_key(key) is None

    on_store(scenario)


def test_duplicate_name_is_refused_and_the_first_tenant_is_untouched(on_store: RunScenario, unique: Unique) -> None:
    name = unique("tenant")

    async def scenario(store: TenantStore) -> None:
        first = await store.create_tenant(name)
        with pytest.raises(DuplicateTenantError, match=name):
            await store.create_tenant(name)
        assert await store.tenant_for_api_key(first.api_key) == Tenant(first.tenant_id, name)
        assert [t for t in await store.tenants() if t.name == name] == [Tenant(first.tenant_id, name)]

    on_store(scenario)


@pytest.mark.parametrize("name", ["", "has space", "-leading-dash", "x" * 65, str(uuid.uuid4()), uuid.uuid4().hex])
def test_names_that_are_not_identifiers_or_look_like_ids_are_refused(on_store: RunScenario, name: str) -> None:
    async def scenario(store: TenantStore) -> None:
        with pytest.raises(InvalidNameError):
            await store.create_tenant(name)

    on_store(scenario)


def test_resolve_by_name_and_by_id(on_store: RunScenario, unique: Unique) -> None:
    name = unique("tenant")

    async def scenario(store: TenantStore) -> None:
        issued = await store.create_tenant(name)
        tenant = Tenant(issued.tenant_id, name)
        assert await store.resolve(name) == tenant
        assert await store.resolve(issued.tenant_id) == tenant
        assert await store.resolve(issued.tenant_id.upper()) == tenant
        for unknown in (unique("nobody"), str(uuid.uuid4())):
            with pytest.raises(TenantNotFoundError):
                await store.resolve(unknown)

    on_store(scenario)


def test_rotated_key_works_at_once_and_the_old_one_during_the_grace_period(
    on_store: RunScenario, unique: Unique
) -> None:
    name = unique("tenant")

    async def scenario(store: TenantStore) -> None:
        first = await store.create_tenant(name)
        by_name = await store.rotate_key(name)
        by_id = await store.rotate_key(first.tenant_id)
        tenant = Tenant(first.tenant_id, name)
        assert (by_name.tenant_id, by_name.name) == (by_id.tenant_id, by_id.name) == (tenant.tenant_id, name)
        assert len({first.api_key, by_name.api_key, by_id.api_key}) == 3
        for key in (first.api_key, by_name.api_key, by_id.api_key):
            assert await store.tenant_for_api_key(key) == tenant

    on_store(scenario)


def test_rotated_key_stops_working_without_grace(on_store: RunScenario, unique: Unique) -> None:
    name = unique("tenant")

    async def scenario(store: TenantStore) -> None:
        first = await store.create_tenant(name)
        second = await store.rotate_key(name)
        third = await store.rotate_key(name)
        assert await store.tenant_for_api_key(first.api_key) is None
        assert await store.tenant_for_api_key(second.api_key) is None
        assert await store.tenant_for_api_key(third.api_key) == Tenant(first.tenant_id, name)

    on_store(scenario, NO_GRACE)


def test_rotated_key_stops_working_when_the_grace_period_ends(on_store: RunScenario, unique: Unique) -> None:
    name = unique("tenant")

    async def scenario(store: TenantStore) -> None:
        first = await store.create_tenant(name)
        second = await store.rotate_key(name)
        assert await store.tenant_for_api_key(first.api_key) is not None
        await asyncio.sleep(1.2)
        assert await store.tenant_for_api_key(first.api_key) is None
        assert await store.tenant_for_api_key(second.api_key) is not None

    on_store(scenario, TenantSettings(key_grace_s=1))


def test_concurrent_rotations_leave_exactly_one_key_without_grace(on_store: RunScenario, unique: Unique) -> None:
    name = unique("tenant")

    async def scenario(store: TenantStore) -> None:
        await store.create_tenant(name)
        # Enough rotations to overlap reliably: unserialised, several new keys would stay active.
        issued = await asyncio.gather(*(store.rotate_key(name) for _ in range(20)))
        working = [key for key in issued if await store.tenant_for_api_key(key.api_key) is not None]
        assert len(working) == 1

    on_store(scenario, NO_GRACE)


def test_rotating_an_unknown_tenant_is_an_error(on_store: RunScenario, unique: Unique) -> None:
    async def scenario(store: TenantStore) -> None:
        with pytest.raises(TenantNotFoundError):
            await store.rotate_key(unique("nobody"))

    on_store(scenario)


def test_webhook_secret_rotation_keeps_the_previous_secret_during_grace(on_store: RunScenario, unique: Unique) -> None:
    name, source = unique("tenant"), unique("crm")

    async def scenario(store: TenantStore) -> None:
        tenant = await store.create_tenant(name)
        first = await store.add_webhook_source(source, name)
        assert (first.source, first.tenant_id) == (source, tenant.tenant_id)
        assert first.secret.startswith("whsec_")
        assert await store.webhook_source(source) == WebhookSource(source, tenant.tenant_id, (first.secret,))

        second = await store.add_webhook_source(source, tenant.tenant_id)
        assert second.secret != first.secret
        assert await store.webhook_source(source) == WebhookSource(
            source, tenant.tenant_id, (second.secret, first.secret)
        )

    on_store(scenario)


def test_webhook_secret_rotation_without_grace_keeps_only_the_newest(on_store: RunScenario, unique: Unique) -> None:
    name, source = unique("tenant"), unique("crm")

    async def scenario(store: TenantStore) -> None:
        tenant = await store.create_tenant(name)
        await store.add_webhook_source(source, name)
        await store.add_webhook_source(source, name)
        newest = await store.add_webhook_source(source, name)
        assert await store.webhook_source(source) == WebhookSource(source, tenant.tenant_id, (newest.secret,))

    on_store(scenario, NO_GRACE)


def test_concurrent_webhook_rotations_leave_exactly_one_secret_without_grace(
    on_store: RunScenario, unique: Unique
) -> None:
    name, source = unique("tenant"), unique("crm")

    async def scenario(store: TenantStore) -> None:
        await store.create_tenant(name)
        issued = await asyncio.gather(*(store.add_webhook_source(source, name) for _ in range(20)))
        found = await store.webhook_source(source)
        assert found is not None
        assert len(found.secrets) == 1
        assert found.secrets[0] in {secret.secret for secret in issued}

    on_store(scenario, NO_GRACE)


def test_tenants_racing_for_a_new_source_leave_it_with_one(on_store: RunScenario, unique: Unique) -> None:
    names, source = [unique("tenant"), unique("tenant")], unique("crm")

    async def scenario(store: TenantStore) -> None:
        for name in names:
            await store.create_tenant(name)
        results = await asyncio.gather(
            *(store.add_webhook_source(source, name) for _ in range(5) for name in names), return_exceptions=True
        )
        found = await store.webhook_source(source)
        assert found is not None
        won = [r for r in results if not isinstance(r, BaseException)]
        assert {r.tenant_id for r in won} == {found.tenant_id}
        assert len(won) == 5
        assert all(isinstance(r, WebhookSourceTakenError) for r in results if isinstance(r, BaseException))

    on_store(scenario)


def test_source_owned_by_another_tenant_is_refused(on_store: RunScenario, unique: Unique) -> None:
    owner_name, other_name, source = unique("tenant"), unique("tenant"), unique("crm")

    async def scenario(store: TenantStore) -> None:
        owner = await store.create_tenant(owner_name)
        await store.create_tenant(other_name)
        issued = await store.add_webhook_source(source, owner_name)
        with pytest.raises(WebhookSourceTakenError, match=source):
            await store.add_webhook_source(source, other_name)
        assert await store.webhook_source(source) == WebhookSource(source, owner.tenant_id, (issued.secret,))

    on_store(scenario)


def test_unknown_source_and_bad_webhook_requests(on_store: RunScenario, unique: Unique) -> None:
    name = unique("tenant")

    async def scenario(store: TenantStore) -> None:
        assert await store.webhook_source(unique("crm")) is None
        with pytest.raises(TenantNotFoundError):
            await store.add_webhook_source(unique("crm"), unique("nobody"))
        await store.create_tenant(name)
        with pytest.raises(InvalidNameError):
            await store.add_webhook_source("crm/../admin", name)

    on_store(scenario)
