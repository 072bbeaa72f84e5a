"""Errors of tenant, API key and webhook source management."""

from aios.errors import AiosError, Refused


class TenantError(AiosError):
    """A tenant operation was refused."""


class TenantNotFoundError(TenantError):
    """No tenant has this name or id."""

    def __init__(self, tenant: str) -> None:
        super().__init__(f"no tenant is named or has the id {tenant!r}")


class DuplicateTenantError(TenantError):
    """Tenant names are unique: commands and operators address tenants by name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"a tenant named {name!r} already exists")


class InvalidNameError(TenantError):
    """A tenant or source name that commands or webhook URLs could not carry unambiguously."""


class WebhookSourceTakenError(TenantError):
    """The source already belongs to another tenant; its events must not change owner silently."""

    def __init__(self, source: str) -> None:
        super().__init__(f"webhook source {source!r} belongs to another tenant")


class Unauthenticated(TenantError, Refused):
    """A caller's API key or webhook signature does not say who it is: the edges answer 401."""

    status = 401


class SignatureInvalid(Unauthenticated):
    """Webhook signature missing, malformed, stale, forged or replayed."""
