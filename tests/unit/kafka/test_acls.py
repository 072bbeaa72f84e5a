"""The ACLs a grant stands for, and the declaration every service's principal comes from."""

from __future__ import annotations

from confluent_kafka.admin import AclOperation, ResourcePatternType, ResourceType

from aios.kafka.acls import Grant, load_grants
from aios.kafka.topics import load_catalogue
from aios.runtime.catalog import load_services


def rights(grant: Grant) -> set[tuple[str, str, str, str]]:
    return {(str(b.restype), b.name, str(b.resource_pattern_type), str(b.operation)) for b in grant.bindings()}


def test_a_reader_reads_and_describes_its_topics_and_reads_its_groups_by_prefix() -> None:
    grant = Grant(name="team", read=["aios.decisions"], groups=["team*"])
    assert rights(grant) == {
        ("ResourceType.TOPIC", "aios.decisions", "ResourcePatternType.LITERAL", "AclOperation.READ"),
        ("ResourceType.TOPIC", "aios.decisions", "ResourcePatternType.LITERAL", "AclOperation.DESCRIBE"),
        ("ResourceType.GROUP", "team", "ResourcePatternType.PREFIXED", "AclOperation.READ"),
    }
    assert {b.principal for b in grant.bindings()} == {"User:team"}


def test_star_alone_is_the_literal_wildcard() -> None:
    (binding,) = Grant(name="lag", describe=["*"]).bindings()
    assert (binding.name, binding.resource_pattern_type) == ("*", ResourcePatternType.LITERAL)


def test_only_decide_may_write_decisions_and_audit_writes_nothing() -> None:
    grants = {grant.name: grant for grant in load_grants()}
    writers = {
        name
        for name, grant in grants.items()
        for b in grant.bindings()
        if b.restype == ResourceType.TOPIC
        and b.operation in (AclOperation.WRITE, AclOperation.ALL)
        and "aios.decisions".startswith(b.name)
    }
    assert writers == {"decide"}
    topic_rights = {b.operation for b in grants["audit"].bindings() if b.restype == ResourceType.TOPIC}
    assert topic_rights == {AclOperation.READ, AclOperation.DESCRIBE}


def test_every_principal_is_a_service_and_names_only_declared_topics() -> None:
    services = {spec.name for spec in load_services()}
    topics = {spec.name for spec in load_catalogue().topics}
    for grant in load_grants():
        assert grant.name in services
        for name in [*grant.read, *grant.write]:
            assert name in topics or (name.endswith("*") and any(t.startswith(name[:-1]) for t in topics)), name
