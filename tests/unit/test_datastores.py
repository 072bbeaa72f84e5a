"""The datastore grants declaration, the statements and ACL rules made from it, and the credentials filled into DSNs."""

from __future__ import annotations

from pathlib import Path

import pytest

from aios.datastores import (
    OWNER,
    DatastoreGrant,
    DatastoreGrantError,
    Login,
    RedisRules,
    grant_statements,
    load_datastore_grants,
    postgres_dsn_for,
    redis_acl_file,
    redis_url_for,
    without_credentials,
)
from aios.runtime.catalog import load_services
from aios.stack.postgres import hba_rules

TABLES = {"aios_schema_migrations", "audit_log", "model_versions", "act_actions"}


def _declared() -> dict[str, DatastoreGrant]:
    return {grant.name: grant for grant in load_datastore_grants()}


def test_every_service_of_the_catalogue_has_a_declared_role() -> None:
    assert {spec.name for spec in load_services()} <= set(_declared())


def test_audit_may_never_rewrite_a_link_and_act_never_touches_the_model_registry() -> None:
    declared = _declared()
    assert "UPDATE" not in declared["audit"].postgres["audit_log"]
    assert "model_versions" not in declared["act"].postgres
    assert "model_aliases" not in declared["act"].postgres


def test_statements_revoke_first_then_grant_only_existing_tables_to_existing_roles() -> None:
    grants = [
        DatastoreGrant(name="audit", postgres={"audit_log": ["SELECT", "INSERT"], "not_yet_made": ["SELECT"]}),
        DatastoreGrant(name="absent", postgres={"audit_log": ["SELECT"]}),
    ]
    statements = grant_statements(grants, TABLES, {"audit"})
    assert statements[0] == 'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "audit"'
    assert 'GRANT INSERT, SELECT ON "audit_log" TO "audit"' in statements
    assert 'GRANT SELECT ON aios_schema_migrations TO "audit"' in statements
    assert not any("not_yet_made" in s or '"absent"' in s for s in statements)


def test_role_names_with_hyphens_are_quoted() -> None:
    statements = grant_statements([DatastoreGrant(name="retrieve-generate")], TABLES, {"retrieve-generate"})
    assert all('"retrieve-generate"' in statement for statement in statements)


def test_a_principal_declared_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "grants.yaml"
    path.write_text("principals:\n  - name: act\n  - name: act\n")
    with pytest.raises(DatastoreGrantError, match="act"):
        load_datastore_grants(path)


def test_the_acl_file_turns_the_default_user_off_and_gives_each_user_only_its_rules() -> None:
    grants = [
        DatastoreGrant(name="review", redis=RedisRules(keys=["aios:review:*"], commands=["get"])),
        DatastoreGrant(name="act"),
    ]
    lines = redis_acl_file(grants, {OWNER: "o", "review": "r", "act": "a"}).splitlines()
    assert lines[0].startswith("user default off")
    review = next(line for line in lines if line.startswith("user review "))
    assert "~aios:review:*" in review and "+get" in review and "+@all" not in review and " r " not in review
    assert not any(line.startswith("user act ") for line in lines)


def test_a_dsn_without_a_user_gets_the_principals_role_password_and_verified_tls() -> None:
    dsn = postgres_dsn_for("postgresql://127.0.0.1:25432/aios", Login(True, "retrieve-generate", "p/w", Path("/ca")))
    assert dsn == ("postgresql://retrieve-generate:p%2Fw@127.0.0.1:25432/aios?sslmode=verify-full&sslrootcert=/ca")


def test_a_dsn_naming_a_user_is_kept_and_an_open_stack_gets_its_superuser() -> None:
    given = "postgresql://someone:secret@db:5432/aios"
    assert postgres_dsn_for(given, Login(True, "act", "p")) == given
    assert postgres_dsn_for("postgresql://127.0.0.1:25432/aios", Login(False, "aios")) == (
        "postgresql://aios@127.0.0.1:25432/aios"
    )


def test_redis_urls_get_the_user_only_when_secure_and_lose_it_when_passed_on() -> None:
    url = redis_url_for("redis://127.0.0.1:26379/0", Login(True, "ingest", "pw"))
    assert url == "redis://ingest:pw@127.0.0.1:26379/0"
    assert redis_url_for("redis://127.0.0.1:26379/0", Login(False, "aios")) == "redis://127.0.0.1:26379/0"
    assert without_credentials(url) == "redis://127.0.0.1:26379/0"


def test_a_secure_hba_trusts_nobody_and_takes_tcp_only_over_tls() -> None:
    rules = hba_rules(secure=True).splitlines()
    assert not any("trust" in rule for rule in rules)
    assert all(rule.split()[0] in {"local", "hostssl"} for rule in rules)
