"""The security material a compose deployment's brokers and services start from, made by the local stack's code.

`write_compose_security` fills one folder (a volume an init container shares with the brokers) with the
stack's CA, the brokers' PEM keystore whose names are the compose host names, every principal's
password (the same names the local stack gives: admin, broker and each grant of infra/acls.yaml), and
per broker the security properties and `kafka-storage format` arguments. Nothing here is a second copy:
the certificates, the principals and the properties come from the functions `aios stack up` calls.
"""

from __future__ import annotations

from pathlib import Path

from aios.kafka.acls import load_grants
from aios.kafka.credentials import ADMIN, BROKER, CertificateFiles, SecurityLayout, ensure_principals
from aios.private_files import write_private
from aios.stack.certificates import ensure_certificates
from aios.stack.kafka import broker_security_properties, scram_format_arguments

COMPOSE_BROKERS = ("kafka-1", "kafka-2", "kafka-3")
"""The brokers' host names in docker-compose.yml: the SANs of their certificate."""


def compose_layout(directory: Path) -> SecurityLayout:
    """The security files under `directory` (certificates in `tls/`, passwords and PEM files in `security/`)."""
    return SecurityLayout(directory / "security")


def write_compose_security(
    directory: Path, mount: Path | None = None, brokers: tuple[str, ...] = COMPOSE_BROKERS
) -> SecurityLayout:
    """Make what is missing under `directory`; `mount` is where containers see it (file paths in the properties).

    Made once, like the local stack's: a second run keeps the CA, the certificates and every password.
    """
    layout = compose_layout(directory)
    ensure_certificates(layout.certificates, list(brokers))
    passwords = ensure_principals(layout, [ADMIN, BROKER, *(grant.name for grant in load_grants())])
    seen_by_brokers = CertificateFiles(compose_layout(mount or directory).directory)
    properties = broker_security_properties(seen_by_brokers, passwords[BROKER])
    text = "".join(f"{key}={value}\n" for key, value in properties.items())
    for broker in brokers:
        folder = directory / broker
        folder.mkdir(parents=True, exist_ok=True)
        write_private(folder / "security.properties", text.encode(), replace=True)
        arguments = "".join(f"{argument}\n" for argument in scram_format_arguments(passwords))
        write_private(folder / "format-arguments", arguments.encode(), replace=True)
    return layout
