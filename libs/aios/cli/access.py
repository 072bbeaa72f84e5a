"""`aios access`: credentials for the CLI's admin actions, and the check those actions run first.

Promoting or retiring a model, applying a policy and setting a connector need `AIOS_CREDENTIAL` of a
role allowed to (`aios.access.roles.ADMIN_ACTIONS`); each is recorded in the audit trail with who did it.
"""

from __future__ import annotations

from typing import Any

import typer

from aios.access.roles import ROLES, Principal, authorize, issue_credential
from aios.access.trail import record_admin_action
from aios.db.pool import run_on_database

app = typer.Typer(no_args_is_help=True, help="Credentials for the CLI's admin actions.")


@app.command()
def issue(
    name: str = typer.Argument(..., help="Who the credential is for (recorded with every action)."),
    role: str = typer.Option(..., "--role", help=" | ".join(ROLES)),
) -> None:
    """Issue a credential (needs the access key, so only its holder can); export it as AIOS_CREDENTIAL."""
    typer.echo(issue_credential(name, role))


def admin_action(action: str) -> Principal:
    """The principal of AIOS_CREDENTIAL, if its role may run `action`; raises AccessDenied otherwise."""
    return authorize(action)


def record(principal: Principal, action: str, details: dict[str, Any]) -> None:
    """The action in the audit trail of the database the command worked on."""
    run_on_database(lambda pool: record_admin_action(pool, principal, action, details))
