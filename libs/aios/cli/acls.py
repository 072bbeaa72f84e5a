"""`aios acls`: apply infra/acls.yaml, one least-privilege principal per service, to the stack's Kafka."""

from __future__ import annotations

import typer
from rich.console import Console

from aios.stack.errors import StackError
from aios.stack.stack import LocalStack

app = typer.Typer(no_args_is_help=True, help=__doc__)


@app.command()
def apply() -> None:
    """Create missing SCRAM users and ACLs, delete ACLs no longer declared (idempotent; run by `stack up`)."""
    stack = LocalStack()
    if not stack.kafka.access.secure:
        raise StackError("the stack runs with security off (AIOS_STACK_SECURITY=false): there are no ACLs to apply")
    console = Console()
    changes = stack.apply_acls()
    for change in changes:
        console.print(f"{change.principal:20} {change.action} {change.detail}")
    if not changes:
        console.print("every principal and ACL is as declared")
