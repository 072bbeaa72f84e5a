"""The one place that says how a client reaches Kafka and the schema registry, credentials included.

Every consumer, producer, admin client, Faust app and registry client starts from these
functions, so security is a property of the connection settings, not of each call site. Unset
settings fall back to the local stack: its mode (SASL_SSL unless started with security off), its
CA and its `principals.json`.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aios.kafka.credentials import load_passwords, security_layout
from aios.kafka.errors import KafkaSetupError
from aios.settings import ConnectionSettings

SASL_MECHANISM = "SCRAM-SHA-512"


@dataclass(frozen=True)
class Access:
    """How one principal reaches the cluster: no credentials at all when the stack runs PLAINTEXT."""

    secure: bool
    principal: str = ""
    password: str = ""
    ca_location: Path | None = None

    def kafka(self) -> dict[str, Any]:
        """librdkafka's security properties."""
        if not self.secure:
            return {"security.protocol": "PLAINTEXT"}
        return {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": SASL_MECHANISM,
            "sasl.username": self.principal,
            "sasl.password": self.password,
            "ssl.ca.location": str(self.ca_location),
        }

    def kafka_config(self, bootstrap: str) -> dict[str, Any]:
        return {"bootstrap.servers": bootstrap, **self.kafka()}

    def aiokafka(self) -> dict[str, Any]:
        """aiokafka's security arguments (for a client Faust does not make)."""
        if not self.secure:
            return {"security_protocol": "PLAINTEXT"}
        return {
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": SASL_MECHANISM,
            "sasl_plain_username": self.principal,
            "sasl_plain_password": self.password,
            "ssl_context": ssl.create_default_context(cafile=str(self.ca_location)),
        }

    def registry(self) -> dict[str, str]:
        """confluent-kafka `SchemaRegistryClient` properties beyond the url."""
        return {"basic.auth.user.info": f"{self.principal}:{self.password}"} if self.secure else {}

    def basic_auth(self) -> tuple[str, str] | None:
        """For plain HTTP clients (httpx) of the registry."""
        return (self.principal, self.password) if self.secure else None


def access(connection: ConnectionSettings | None = None, principal: str | None = None) -> Access:
    """The access of `principal` (default: the connection's own) under the connection's security settings."""
    connection = connection or ConnectionSettings()
    layout = security_layout()
    protocol = connection.kafka_security_protocol or ("SASL_SSL" if layout.principals.exists() else "PLAINTEXT")
    if protocol == "PLAINTEXT":
        return Access(secure=False)
    name = principal or connection.principal
    password = (
        connection.principal_password.get_secret_value()
        if connection.principal_password is not None and principal in (None, connection.principal)
        else _stored_password(connection.credentials_file or layout.principals, name)
    )
    return Access(
        secure=True,
        principal=name,
        password=password,
        ca_location=connection.kafka_ca_location or layout.certificates.ca,
    )


def _stored_password(path: Path, principal: str) -> str:
    password = load_passwords(path).get(principal)
    if password is None:
        raise KafkaSetupError(
            f"no password for principal {principal!r} in {path}: set AIOS_PRINCIPAL_PASSWORD, "
            "or declare it in infra/acls.yaml and run `aios acls apply`"
        )
    return password


def kafka_config(
    bootstrap: str, connection: ConnectionSettings | None = None, principal: str | None = None
) -> dict[str, Any]:
    """`bootstrap.servers` and the security properties: the base of every librdkafka client config."""
    return access(connection, principal).kafka_config(bootstrap)


def registry_config(url: str, connection: ConnectionSettings | None = None) -> dict[str, str]:
    """A `SchemaRegistryClient` config: the url and, when the stack is secure, the principal's basic auth."""
    return {"url": url, **access(connection).registry()}


def faust_credentials(connection: ConnectionSettings) -> Any:
    """Faust's `broker_credentials` (aiokafka SCRAM over TLS), or None on a PLAINTEXT stack."""
    import faust

    found = access(connection)
    if not found.secure:
        return None
    context = ssl.create_default_context(cafile=str(found.ca_location))
    return faust.SASLCredentials(
        username=found.principal, password=found.password, ssl_context=context, mechanism=SASL_MECHANISM
    )
