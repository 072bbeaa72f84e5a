"""The brokers' security properties and SCRAM format arguments: the one home every deployment reads them from."""

from __future__ import annotations

from pathlib import Path

from aios.kafka.clients import SASL_MECHANISM
from aios.kafka.credentials import ADMIN, BROKER, CertificateFiles
from aios.stack.kafka import broker_security_properties, scram_format_arguments


def test_clients_and_brokers_use_sasl_ssl_and_nothing_is_allowed_without_an_acl() -> None:
    files = CertificateFiles(Path("/tls"))
    properties = broker_security_properties(files, "broker-secret")
    assert properties["listener.security.protocol.map"] == "CONTROLLER:SSL,CLIENT:SASL_SSL"
    assert properties["sasl.mechanism.inter.broker.protocol"] == SASL_MECHANISM
    assert properties["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert properties["allow.everyone.if.no.acl.found"] == "false"
    assert properties["listener.name.controller.ssl.client.auth"] == "required"
    assert 'password="broker-secret"' in str(properties["listener.name.client.scram-sha-512.sasl.jaas.config"])
    assert (properties["ssl.keystore.location"], properties["ssl.truststore.location"]) == (files.broker, files.ca)


def test_format_creates_exactly_the_admin_and_broker_users() -> None:
    passwords = {ADMIN: "a", BROKER: "b", "ingest": "c"}
    assert scram_format_arguments(passwords) == [
        "--add-scram",
        f"{SASL_MECHANISM}=[name={ADMIN},password=a]",
        "--add-scram",
        f"{SASL_MECHANISM}=[name={BROKER},password=b]",
    ]
    assert scram_format_arguments({}) == []
