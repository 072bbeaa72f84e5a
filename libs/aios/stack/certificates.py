"""The local stack's certificate authority and the server certificates it signs (TLS on every listener).

`aios stack up` makes the CA once in `<state_dir>/tls/` and one certificate per component; clients
trust `ca.crt`. Files are made only when absent, so a running stack keeps its certificates, and
private keys are written 0600. Production brings its own PKI: only the file paths are read there.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from aios.private_files import write_private

if TYPE_CHECKING:
    from aios.kafka.credentials import CertificateFiles

CA_NAME = "AIOS local stack CA"
BROKER_COMMON_NAME = "aios-kafka-broker"
"""Subject of the brokers' certificate: `User:CN=aios-kafka-broker` is their principal on the controller listener."""
_CA_DAYS = 3650
_SERVER_DAYS = 825


@dataclass(frozen=True)
class ServerCertificate:
    """A component's certificate chain and key, PEM files usable by uvicorn, PostgreSQL, Redis and Kafka."""

    certificate: Path
    key: Path
    ca: Path


def tls_dir(state_dir: Path) -> Path:
    return state_dir / "tls"


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def ensure_ca(state_dir: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The stack's CA, made on first call (`tls/ca.crt`, `tls/ca.key`)."""
    folder = tls_dir(state_dir)
    cert_path, key_path = folder / "ca.crt", folder / "ca.key"
    if not key_path.exists():
        write_private(key_path, _key_pem(ec.generate_private_key(ec.SECP256R1())))
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    if not cert_path.exists():
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
        now = dt.datetime.now(dt.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=_CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(key, hashes.SHA256())
        )
        write_private(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
        cert_path.chmod(0o644)
    return x509.load_pem_x509_certificate(cert_path.read_bytes()), key


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def ensure_server_certificate(
    state_dir: Path, name: str, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
) -> ServerCertificate:
    """`tls/<name>.crt` and `tls/<name>.key`, signed by the stack's CA for `hosts`; made on first call."""
    folder = tls_dir(state_dir)
    cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    ca_cert, ca_key = ensure_ca(state_dir)
    if not key_path.exists():
        write_private(key_path, _key_pem(ec.generate_private_key(ec.SECP256R1())))
    if not cert_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        now = dt.datetime.now(dt.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=_SERVER_DAYS))
            .add_extension(x509.SubjectAlternativeName([_san(host) for host in hosts]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        write_private(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
        cert_path.chmod(0o644)
    return ServerCertificate(cert_path, key_path, folder / "ca.crt")


def ensure_certificates(files: CertificateFiles, hosts: list[str]) -> None:
    """The brokers' PEM keystore (key, certificate, the CA's) and the CA file clients trust, from the stack's one CA.

    Made once: a stack whose files exist (or a private stack given a copy of them) changes nothing.
    """
    if files.exist():
        return
    server = ensure_server_certificate(
        files.directory.parent, BROKER_COMMON_NAME, tuple(dict.fromkeys([*hosts, "localhost", "127.0.0.1"]))
    )
    files.directory.mkdir(parents=True, exist_ok=True)
    write_private(files.broker, server.key.read_bytes() + server.certificate.read_bytes() + server.ca.read_bytes())
    files.ca.write_bytes(server.ca.read_bytes())
