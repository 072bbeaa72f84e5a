"""Roles and the CLI's admin actions, and credentials that name a principal and its role.

A credential is `aioscred1.<name>.<role>.<HMAC>` under the access key, which is held outside the
database like the other keys (`AIOS_KEYS_ACCESS_KEY`, else `<keys dir>/access.key`): whoever holds
the key issues credentials (`aios access issue`), everyone else presents one in `AIOS_CREDENTIAL`.
Rotating the key revokes every credential at once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from aios.access.errors import AccessDenied
from aios.keys.files import secret_key
from aios.keys.settings import KeySettings

ROLES = ("admin", "operator", "auditor", "reviewer", "sender")
ADMIN_ACTIONS: dict[str, tuple[str, ...]] = {
    "model.promote": ("admin",),
    "model.retire": ("admin",),
    "policy.apply": ("admin",),
    "connectors.set": ("admin",),
    "kb.endpoint": ("admin",),
    "model.rollout": ("admin",),
    "policy.rollout": ("admin",),
    "refdata.import": ("admin",),
}
"""CLI action → the roles that may run it."""

_PREFIX = "aioscred1"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class AccessSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIOS_", extra="ignore", frozen=True)

    credential: SecretStr | None = Field(
        default=None, description="The credential (`aios access issue`) the CLI's admin actions run under."
    )


@dataclass(frozen=True)
class Principal:
    name: str
    role: str


def _access_key(settings: KeySettings | None = None) -> bytes:
    settings = settings or KeySettings()
    return secret_key(settings.access_key, settings.dir / "access.key", "the access key")


def _mac(key: bytes, name: str, role: str) -> str:
    return hmac.new(key, f"{_PREFIX}\n{name}\n{role}".encode(), hashlib.sha256).hexdigest()


def issue_credential(name: str, role: str, settings: KeySettings | None = None) -> str:
    if role not in ROLES:
        raise AccessDenied(f"role {role!r} is not one of {', '.join(ROLES)}")
    if not _NAME.fullmatch(name):
        raise AccessDenied(f"principal name {name!r} must be 1-64 letters, digits, '_' or '-'")
    return f"{_PREFIX}.{name}.{role}.{_mac(_access_key(settings), name, role)}"


def principal_of(credential: str, settings: KeySettings | None = None) -> Principal:
    prefix, _, rest = credential.partition(".")
    name, _, rest = rest.partition(".")
    role, _, mac = rest.partition(".")
    if prefix != _PREFIX or not name or role not in ROLES:
        raise AccessDenied("AIOS_CREDENTIAL is not an AIOS credential (aioscred1.NAME.ROLE.MAC)")
    if not hmac.compare_digest(_mac(_access_key(settings), name, role), mac):
        raise AccessDenied(f"the credential of {name} does not verify (issued under another access key, or altered)")
    return Principal(name, role)


def authorize(action: str, credential: SecretStr | None = None) -> Principal:
    """The principal allowed to run `action`; AccessDenied says what is missing."""
    allowed = ADMIN_ACTIONS[action]
    presented = credential or AccessSettings().credential
    if presented is None or not presented.get_secret_value():
        raise AccessDenied(
            f"{action} needs a credential of role {' or '.join(allowed)}: set AIOS_CREDENTIAL"
            " (the key holder issues one with `aios access issue NAME --role admin`)"
        )
    principal = principal_of(presented.get_secret_value())
    if principal.role not in allowed:
        raise AccessDenied(f"{principal.name} ({principal.role}) may not {action}: it needs {' or '.join(allowed)}")
    return principal
