"""What the compose deployment's init step writes: certificates for the compose host names, principals, broker files."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from aios.kafka.acls import load_grants
from aios.kafka.credentials import ADMIN, BROKER, CertificateFiles, load_passwords
from aios.stack.compose_security import COMPOSE_BROKERS, write_compose_security
from aios.stack.kafka import broker_security_properties, scram_format_arguments


def _properties(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_brokers_certificate_names_the_compose_hosts_and_chains_to_the_ca(tmp_path: Path) -> None:
    layout = write_compose_security(tmp_path)
    files = layout.certificates
    chain = x509.load_pem_x509_certificates(files.broker.read_bytes())
    ca = x509.load_pem_x509_certificate(files.ca.read_bytes())
    server = chain[0]
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName
    )
    assert set(COMPOSE_BROKERS) <= set(names)
    assert server.issuer == ca.subject
    server.verify_directly_issued_by(ca)


def test_every_principal_has_a_password_and_each_broker_its_files(tmp_path: Path) -> None:
    mount = Path("/var/lib/aios/compose")
    layout = write_compose_security(tmp_path, mount=mount)
    passwords = load_passwords(layout.principals)
    assert {ADMIN, BROKER, *(grant.name for grant in load_grants())} <= set(passwords)
    for broker in COMPOSE_BROKERS:
        properties = _properties(tmp_path / broker / "security.properties")
        expected = broker_security_properties(CertificateFiles(mount / "security"), passwords[BROKER])
        assert properties == {key: str(value) for key, value in expected.items()}
        assert properties["allow.everyone.if.no.acl.found"] == "false"
        arguments = (tmp_path / broker / "format-arguments").read_text().splitlines()
        assert arguments == scram_format_arguments(passwords)


def test_a_second_run_keeps_the_ca_and_the_passwords(tmp_path: Path) -> None:
    first = write_compose_security(tmp_path)
    ca, passwords = first.certificates.ca.read_bytes(), load_passwords(first.principals)
    second = write_compose_security(tmp_path)
    assert second.certificates.ca.read_bytes() == ca
    assert load_passwords(second.principals) == passwords
