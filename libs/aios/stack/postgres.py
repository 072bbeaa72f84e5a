"""A private PostgreSQL cluster made with initdb under the stack's state folder.

Closed by default: SCRAM-SHA-256 passwords for every connection (no trust, not even on loopback), TCP
only over TLS with a certificate from the stack's CA. The superuser is the stack's alone (its password in
`security/bootstrap.json`); `start` makes the owner role (the `admin` principal, which runs migrations)
and one login role per service of infra/datastore-grants.yaml, each with its principal's password, then
migrates as the owner, which grants each role its tables. With security off (development only) every
local connection is trusted, as before.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

from aios.datastores import OWNER, REGISTRY, SUPERUSER, Login, load_datastore_grants, postgres_dsn_for, quote_ident
from aios.db.migrations import migrate
from aios.db.pool import open_pool
from aios.kafka.credentials import ensure_bootstrap_passwords, ensure_principals, load_passwords, security_layout
from aios.stack.certificates import ensure_certificates, ensure_server_certificate, tls_dir
from aios.stack.errors import MissingToolError, StackError
from aios.stack.process import ManagedProcess, chown_to
from aios.stack.settings import StackSettings

DATABASE = "aios"
REGISTRY_DATABASE = "aios_registry"
"""The schema registry's own database, owned by its role."""


def postgres_bindir() -> Path:
    """The newest installed server's bin folder (Debian keeps them versioned)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if candidates:
        return candidates[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise MissingToolError("PostgreSQL server binaries (initdb, postgres) are not installed")
    return Path(initdb).parent


class PostgresServer:
    name = "postgres"

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.root = settings.state_dir / "postgres"
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "run"

    @property
    def secure(self) -> bool:
        return self.settings.security

    @property
    def ca(self) -> Path:
        return tls_dir(self.settings.state_dir) / "ca.crt"

    def dsn_of(self, user: str, database: str = DATABASE) -> str:
        """`user`'s DSN on this server: its password and verified TLS when secure, trusted otherwise."""
        location = f"postgresql://{self.settings.host}:{self.settings.postgres_port}/{database}"
        if not self.secure:
            return postgres_dsn_for(location, Login(secure=False, user=SUPERUSER))
        passwords = load_passwords(security_layout(self.settings.state_dir).principals)
        return postgres_dsn_for(location, Login(True, user, passwords.get(user, ""), self.ca))

    @property
    def dsn(self) -> str:
        """The owner's DSN: migrations, the CLI, scratch databases."""
        return self.dsn_of(OWNER)

    @property
    def registry_dsn(self) -> str:
        return self.dsn_of(REGISTRY, REGISTRY_DATABASE)

    @property
    def _run_as(self) -> str:
        return self.settings.postgres_user

    @property
    def _hba_file(self) -> Path:
        return self.root / "pg_hba.conf"

    @property
    def _tls_files(self) -> tuple[Path, Path]:
        """The server's certificate and key, copied where the server's OS user may read them."""
        return self.root / "tls" / "server.crt", self.root / "tls" / "server.key"

    def process(self) -> ManagedProcess:
        certificate, key = self._tls_files
        tls = ["-c", "ssl=on", "-c", f"ssl_cert_file={certificate}", "-c", f"ssl_key_file={key}"]
        return ManagedProcess(
            name=self.name,
            argv=[
                str(postgres_bindir() / "postgres"),
                "-D",
                str(self.data_dir),
                "-p",
                str(self.settings.postgres_port),
                "-h",
                self.settings.host,
                "-k",
                str(self.socket_dir),
                "-c",
                f"hba_file={self._hba_file}",
                "-c",
                "password_encryption=scram-sha-256",
                *(tls if self.secure else []),
                # Local stack only: an OS crash may lose data, a killed server does not.
                "-c",
                "fsync=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ],
            state_dir=self.settings.state_dir / "logs",
            ports=[(self.settings.host, self.settings.postgres_port)],
            run_as=self._run_as,
        )

    def start(self) -> None:
        initialised = (self.data_dir / "PG_VERSION").exists()
        layout = security_layout(self.settings.state_dir)
        if self.secure:
            if initialised and SUPERUSER not in load_passwords(layout.bootstrap):
                raise StackError(
                    f"PostgreSQL in {self.data_dir} was made without passwords (before security, or with "
                    "AIOS_STACK_SECURITY=false); start it afresh with `aios stack down --purge && aios stack up` "
                    "(its data is lost), or keep running it with AIOS_STACK_SECURITY=false"
                )
            ensure_certificates(layout.certificates, [self.settings.host])  # the CA file its clients trust
            ensure_bootstrap_passwords(layout, [SUPERUSER])
            ensure_principals(layout, [OWNER, REGISTRY, *(grant.name for grant in load_datastore_grants())])
        if not initialised:
            self._initdb()
        self._write_config()
        process = self.process()
        process.start()
        process.wait_until(self.healthy, self.settings.start_timeout_s, "accepting connections")
        self._bootstrap()
        asyncio.run(self._migrate())

    def _initdb(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        chown_to(self.root, self._run_as)
        auth = ["--auth=trust"]
        password_file = self.root / "superuser.password"
        if self.secure:
            password_file.write_text(load_passwords(security_layout(self.settings.state_dir).bootstrap)[SUPERUSER])
            password_file.chmod(0o600)
            chown_to(password_file, self._run_as)
            auth = ["--auth=scram-sha-256", f"--pwfile={password_file}"]
        try:
            self._run(
                [
                    str(postgres_bindir() / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    SUPERUSER,
                    *auth,
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ],
                as_owner=True,
            )
        finally:
            password_file.unlink(missing_ok=True)

    def _write_config(self) -> None:
        """pg_hba.conf for the mode (rewritten on every start) and, when secure, the server's TLS files."""
        if self.secure:
            hosts = tuple(dict.fromkeys([self.settings.host, "127.0.0.1", "localhost"]))
            server = ensure_server_certificate(self.settings.state_dir, "postgres", hosts)
            certificate, key = self._tls_files
            key.parent.mkdir(parents=True, exist_ok=True)
            certificate.write_bytes(server.certificate.read_bytes())
            key.write_bytes(server.key.read_bytes())
            key.chmod(0o600)
            chown_to(key.parent, self._run_as)
        self._hba_file.write_text(hba_rules(self.secure))
        chown_to(self._hba_file, self._run_as)

    def _bootstrap(self) -> None:
        """Roles (with their principals' passwords, set again each start) and the two databases."""
        if self.secure:
            passwords = load_passwords(security_layout(self.settings.state_dir).principals)
            grants = load_datastore_grants()
            statements = [_ensure_role(OWNER, passwords[OWNER], "CREATEDB")]
            statements += [_ensure_role(name, passwords[name]) for name in (REGISTRY, *(g.name for g in grants))]
            # The owner drops scratch databases WITH (FORCE), which ends the sessions of the services' roles in them.
            statements.append(f"GRANT pg_signal_backend TO {quote_ident(OWNER)};")
            self._psql("postgres", "\n".join(statements))
        owner, registry = (OWNER, REGISTRY) if self.secure else (SUPERUSER, SUPERUSER)
        for database, role in ((DATABASE, owner), (REGISTRY_DATABASE, registry)):
            exists = self._psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{database}'")  # noqa: S608
            if exists.strip() != "1":
                self._psql("postgres", f"CREATE DATABASE {database} OWNER {quote_ident(role)}")

    async def _migrate(self) -> None:
        async with open_pool(self.dsn, max_size=1) as pool:
            await migrate(pool)

    def _psql(self, database: str, sql: str) -> str:
        """Run `sql` (from stdin, so no password shows in a process list) as the stack's superuser."""
        env = {**os.environ, "PGHOST": self.settings.host, "PGPORT": str(self.settings.postgres_port)}
        env |= {"PGUSER": SUPERUSER, "PGDATABASE": database}
        if self.secure:
            layout = security_layout(self.settings.state_dir)
            env |= {
                "PGPASSWORD": load_passwords(layout.bootstrap)[SUPERUSER],
                "PGSSLMODE": "verify-full",
                "PGSSLROOTCERT": str(self.ca),
            }
        result = subprocess.run(
            [str(postgres_bindir() / "psql"), "-X", "-v", "ON_ERROR_STOP=1", "-tA", "-f", "-"],
            input=sql,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"psql on {database} failed: {result.stderr.strip()}")
        return result.stdout

    def _run(self, argv: list[str], as_owner: bool = False) -> str:
        if as_owner and os.geteuid() == 0:
            argv = ["runuser", "-u", self._run_as, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StackError(f"{' '.join(argv[:3])}... failed: {result.stderr.strip()}")
        return result.stdout

    def healthy(self) -> bool:
        result = subprocess.run(
            [
                str(postgres_bindir() / "pg_isready"),
                "-q",
                "-h",
                self.settings.host,
                "-p",
                str(self.settings.postgres_port),
            ],
            check=False,
        )
        return result.returncode == 0

    def stop(self) -> None:
        self.process().stop(timeout=30)

    def endpoints(self) -> dict[str, str]:
        """Where the database is, without credentials: each client adds its own principal's."""
        return {"postgres_dsn": f"postgresql://{self.settings.host}:{self.settings.postgres_port}/{DATABASE}"}


def hba_rules(secure: bool) -> str:
    """Who may connect how: SCRAM everywhere and TCP only over TLS when secure; trust when security is off."""
    if not secure:
        return "local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n"
    return (
        "local all all scram-sha-256\n"
        "hostssl all all 127.0.0.1/32 scram-sha-256\n"
        "hostssl all all ::1/128 scram-sha-256\n"
    )


def _ensure_role(name: str, password: str, *attributes: str) -> str:
    """Create the login role unless it exists, then set its password and attributes (idempotent)."""
    role = quote_ident(name)
    literal = password.replace("'", "''")
    options = " ".join(["LOGIN", "NOSUPERUSER", "NOCREATEROLE", *attributes])
    # Names come from the declaration and passwords from secrets.token_urlsafe; neither is user input.
    create = f"SELECT 'CREATE ROLE {role}' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}')"  # noqa: S608
    return f"{create}\\gexec\nALTER ROLE {role} {options} PASSWORD '{literal}';"
