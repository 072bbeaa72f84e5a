"""How a principal reaches PostgreSQL and Redis: its role, its ACL user and what each may touch.

One declaration (`infra/datastore-grants.yaml`) says which tables and Redis keys each service may use;
this module turns it into GRANT statements and Redis ACL rules (pure functions), and fills the
principal's credentials into a DSN or URL that names none, the way `aios.kafka.clients` does for Kafka:
the same principal, the same password, the stack's CA. The `admin` principal owns the schema (it runs
the migrations and the CLI); the stack's own superuser is never handed to anything else.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field

from aios.errors import AiosError
from aios.kafka.credentials import ADMIN
from aios.paths import infra_dir

if TYPE_CHECKING:
    from aios.settings import ConnectionSettings

OWNER = ADMIN
"""The PostgreSQL role that owns the database and its tables, and the Redis user of the CLI."""
SUPERUSER = "aios"
"""The cluster's bootstrap superuser: only the stack itself logs in with it (roles, databases)."""
REGISTRY = "schema-registry"
"""The schema registry's role: it owns its own database and nothing else."""
MIGRATIONS_TABLE = "aios_schema_migrations"

Privilege = Literal["SELECT", "INSERT", "UPDATE", "DELETE"]


class DatastoreGrantError(AiosError):
    """The grants declaration is malformed."""


class RedisRules(BaseModel):
    """What one ACL user may touch: key patterns, pub/sub channel patterns and commands."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keys: list[str] = Field(default_factory=list, description="Key patterns (Redis `~pattern`).")
    channels: list[str] = Field(default_factory=list, description="Channel patterns (Redis `&pattern`).")
    commands: list[str] = Field(default_factory=list, description="Commands or `command|subcommand` allowed.")


class DatastoreGrant(BaseModel):
    """One principal's rights in PostgreSQL (table → privileges) and Redis."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="The principal: its PostgreSQL role and Redis user have this name.")
    postgres: dict[str, list[Privilege]] = Field(default_factory=dict, description="Table → privileges.")
    redis: RedisRules | None = Field(default=None, description="Its Redis ACL user; none: no Redis access.")


class _Declaration(BaseModel):
    model_config = ConfigDict(extra="forbid")
    principals: list[DatastoreGrant]


def grants_file() -> Path:
    return infra_dir() / "datastore-grants.yaml"


def load_datastore_grants(path: Path | None = None) -> list[DatastoreGrant]:
    """The declared principals; a duplicate name or an unknown key is an error, not a silent merge."""
    source = path or grants_file()
    try:
        declared = _Declaration.model_validate(yaml.safe_load(source.read_text()))
    except (OSError, ValueError) as exc:
        raise DatastoreGrantError(f"{source}: {exc}") from exc
    names = [grant.name for grant in declared.principals]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates or OWNER in names or SUPERUSER in names:
        raise DatastoreGrantError(f"{source}: principals declared twice or reserved: {duplicates or [OWNER]}")
    return declared.principals


def quote_ident(name: str) -> str:
    """A PostgreSQL identifier (role names such as `retrieve-generate` need quotes)."""
    return '"' + name.replace('"', '""') + '"'


def grant_statements(grants: list[DatastoreGrant], tables: set[str], roles: set[str]) -> list[str]:
    """What the owner runs after migrations: each existing role's rights on the existing tables, exactly.

    First everything is revoked from the role, so a privilege removed from the declaration goes away;
    it all runs in one transaction, so no service sees the gap. Declared tables the database does not
    have (yet) are skipped, as are roles the cluster lacks (a stack with security off has none).
    """
    statements: list[str] = []
    for grant in grants:
        if grant.name not in roles:
            continue
        role = quote_ident(grant.name)
        statements += [
            f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
            f"GRANT USAGE ON SCHEMA public TO {role}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        ]
        if MIGRATIONS_TABLE in tables:
            statements.append(f"GRANT SELECT ON {MIGRATIONS_TABLE} TO {role}")
        for table, privileges in sorted(grant.postgres.items()):
            if table in tables and privileges:
                statements.append(f"GRANT {', '.join(sorted(set(privileges)))} ON {quote_ident(table)} TO {role}")
    return statements


def redis_acl_line(name: str, password: str, rules: RedisRules | None) -> str:
    """One `user` line of the ACL file: on, the password's SHA-256, then only what `rules` allow.

    The owner (the CLI) may use every key and command; a principal without rules may only connect.
    """
    digest = hashlib.sha256(password.encode()).hexdigest()
    words = ["user", name, "reset", "on", f"#{digest}"]
    if name == OWNER:
        words += ["~*", "&*", "+@all"]
    elif rules is not None:
        words += [f"~{pattern}" for pattern in rules.keys]
        words += [f"&{pattern}" for pattern in rules.channels]
        words += ["+ping", *(f"+{command}" for command in rules.commands)]
    return " ".join(words)


def redis_acl_file(grants: list[DatastoreGrant], passwords: dict[str, str]) -> str:
    """The ACL file: the default user off, the owner, and one user per declared principal with a password."""
    lines = ["user default off resetkeys resetchannels -@all"]
    lines.append(redis_acl_line(OWNER, passwords[OWNER], None))
    lines += [
        redis_acl_line(grant.name, passwords[grant.name], grant.redis)
        for grant in grants
        if grant.redis is not None and grant.name in passwords
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Login:
    """Who connects and how: a role and password, TLS verified against `ca` when the stack is secure."""

    secure: bool
    user: str
    password: str = field(default="", repr=False)
    ca: Path | None = None


def postgres_dsn_for(dsn: str, login: Login) -> str:
    """`dsn` with `login`'s user and password, and `sslmode=verify-full` against its CA when secure.

    A DSN that already names a user is returned as it is: production (or a test) chose its credentials.
    """
    parts = urlsplit(dsn)
    if parts.username:
        return dsn
    userinfo = quote(login.user, safe="")
    if login.secure:
        userinfo += ":" + quote(login.password, safe="")
    query = dict(parse_qsl(parts.query))
    if login.secure:
        query.setdefault("sslmode", "verify-full")
        if login.ca is not None:
            query.setdefault("sslrootcert", str(login.ca))
    netloc = f"{userinfo}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc, query=urlencode(query, safe="/")).geturl()


def redis_url_for(url: str, login: Login) -> str:
    """`url` with `login`'s ACL user and password when the stack is secure; unchanged if it names one."""
    parts = urlsplit(url)
    if parts.username or parts.password or not login.secure:
        return url
    netloc = f"{quote(login.user, safe='')}:{quote(login.password, safe='')}@{parts.hostname}"
    netloc += f":{parts.port}" if parts.port else ""
    return parts._replace(netloc=netloc).geturl()


def without_credentials(location: str) -> str:
    """A DSN or URL with its user and password removed: what one process passes to others, who add their own."""
    parts = urlsplit(location)
    if not (parts.username or parts.password):
        return location
    netloc = f"{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


def login(connection: ConnectionSettings) -> Login:
    """The connection's principal as it logs in to the stack's databases (the stack's superuser when it is open).

    A principal without a stored password (a subscribing team's) gets a login without one: the server refuses it.
    """
    from aios.kafka.clients import access
    from aios.kafka.errors import KafkaSetupError

    try:
        found = access(connection)
    except KafkaSetupError:
        return Login(secure=True, user=connection.principal)
    if not found.secure:
        return Login(secure=False, user=SUPERUSER)
    return Login(secure=True, user=found.principal, password=found.password, ca=found.ca_location)
