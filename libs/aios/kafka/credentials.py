"""The local stack's principals: one random password each, kept under `<state dir>/security/`.

`principals.json` (principal → password, mode 0600) is what the stack hands to its services and
tools; `registry-users.json` holds only salted hashes and roles, which is all the schema registry
needs to check a basic-auth header. Passwords are 32 random bytes, so a salted SHA-256 is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from aios.kafka.errors import KafkaSetupError
from aios.settings import local_stack_state_dir

ADMIN = "admin"
"""The principal that creates topics, ACLs and users and is the only one that writes to the registry."""
BROKER = "broker"
"""The brokers' own SCRAM user on the client listener (inter-broker traffic)."""

RegistryRole = Literal["admin", "reader"]


@dataclass(frozen=True)
class CertificateFiles:
    """Where the PEM files of one stack lie."""

    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def broker(self) -> Path:
        """The broker's private key (PKCS#8) followed by its certificate and the CA's."""
        return self.directory / "broker.pem"

    def exist(self) -> bool:
        return self.ca.exists() and self.broker.exists()


@dataclass(frozen=True)
class SecurityLayout:
    """Files of one stack's security state."""

    directory: Path

    @property
    def principals(self) -> Path:
        return self.directory / "principals.json"

    @property
    def registry_users(self) -> Path:
        return self.directory / "registry-users.json"

    @property
    def bootstrap(self) -> Path:
        """Passwords only the stack itself uses (the PostgreSQL superuser): never handed to a service or tool."""
        return self.directory / "bootstrap.json"

    @property
    def consumers(self) -> Path:
        """The subscribing teams `aios consumers add` made: name → topics and group prefix."""
        return self.directory / "consumers.json"

    @property
    def certificates(self) -> CertificateFiles:
        return CertificateFiles(self.directory)


def security_layout(state_dir: Path | None = None) -> SecurityLayout:
    """The security files of the stack at `state_dir` (default: the local stack's)."""
    return SecurityLayout((state_dir or local_stack_state_dir()) / "security")


def load_passwords(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise KafkaSetupError(f"{path} is not a JSON object of principal → password: {exc}") from exc
    return {str(name): str(password) for name, password in data.items()}


def ensure_principals(layout: SecurityLayout, names: list[str]) -> dict[str, str]:
    """Every principal in `names` has a password (new ones get a random one); all passwords."""
    passwords = load_passwords(layout.principals)
    if _add_missing(passwords, names):
        _write(layout, passwords)
    return passwords


def ensure_bootstrap_passwords(layout: SecurityLayout, names: list[str]) -> dict[str, str]:
    """`ensure_principals` for the stack's own accounts, kept apart so no registry user or service gets them."""
    passwords = load_passwords(layout.bootstrap)
    if _add_missing(passwords, names):
        layout.directory.mkdir(parents=True, exist_ok=True)
        _replace(layout.bootstrap, json.dumps(passwords, indent=2, sort_keys=True))
    return passwords


def _add_missing(passwords: dict[str, str], names: list[str]) -> bool:
    """A random password for each name that has none; whether any was added."""
    missing = [name for name in names if name not in passwords]
    passwords.update({name: secrets.token_urlsafe(32) for name in missing})
    return bool(missing)


def forget_principal(layout: SecurityLayout, name: str) -> None:
    passwords = load_passwords(layout.principals)
    if passwords.pop(name, None) is not None:
        _write(layout, passwords)


def _write(layout: SecurityLayout, passwords: dict[str, str]) -> None:
    """Both files, each replaced atomically so a reader never sees half of one."""
    layout.directory.mkdir(parents=True, exist_ok=True)
    users = {name: {**hash_password(password), "role": registry_role(name)} for name, password in passwords.items()}
    _replace(layout.principals, json.dumps(passwords, indent=2, sort_keys=True))
    _replace(layout.registry_users, json.dumps(users, indent=2, sort_keys=True))


def _replace(path: Path, text: str) -> None:
    partial = path.with_suffix(".tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    partial.replace(path)


def registry_role(name: str) -> RegistryRole:
    return "admin" if name == ADMIN else "reader"


def hash_password(password: str) -> dict[str, str]:
    salt = secrets.token_hex(16)
    return {"salt": salt, "sha256": hashlib.sha256(bytes.fromhex(salt) + password.encode()).hexdigest()}


def password_matches(entry: dict[str, str], password: str) -> bool:
    digest = hashlib.sha256(bytes.fromhex(entry["salt"]) + password.encode()).hexdigest()
    return hmac.compare_digest(digest, entry["sha256"])
