"""Credential formats and digests, and the grace-period settings, without a database."""

from __future__ import annotations

import base64
import hashlib

import pytest
from pydantic import ValidationError

from aios.tenants.secrets import hash_api_key, new_api_key, new_webhook_secret
from aios.tenants.settings import TenantSettings


@pytest.mark.parametrize(("make", "prefix"), [(new_api_key, "aios_"), (new_webhook_secret, "whsec_")])
def test_credentials_carry_a_prefix_and_256_random_bits(make: object, prefix: str) -> None:
    assert callable(make)
    values = {make() for _ in range(100)}
    assert len(values) == 100
    for value in values:
        assert value.startswith(prefix)
        body = value.removeprefix(prefix)
        assert len(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))) == 32
        assert set(body) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_api_key_hash_is_the_sha256_hex_digest() -> None:
    key = new_api_key()
    assert hash_api_key(key) == hashlib.sha256(key.encode()).hexdigest()
    assert hash_api_key(key) == hash_api_key(key)
    assert hash_api_key(key) != hash_api_key(new_api_key())
    assert len(hash_api_key(key)) == 64


def test_grace_periods_default_to_a_day_and_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert TenantSettings().key_grace_s == 24 * 3600
    assert TenantSettings().webhook_secret_grace_s == 24 * 3600
    monkeypatch.setenv("AIOS_TENANTS_KEY_GRACE_S", "0")
    monkeypatch.setenv("AIOS_TENANTS_WEBHOOK_SECRET_GRACE_S", "60")
    assert TenantSettings().key_grace_s == 0
    assert TenantSettings().webhook_secret_grace_s == 60


def test_negative_grace_period_is_refused() -> None:
    with pytest.raises(ValidationError):
        TenantSettings(key_grace_s=-1)
