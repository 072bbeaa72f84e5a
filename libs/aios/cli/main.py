"""The `aios` command: the local stack, topics, tenants, models, supervised services and the demo."""

from __future__ import annotations

import logging

import typer

from aios.cli import (
    access,
    acls,
    audit,
    backfill,
    callbacks,
    connectors,
    consumers,
    documents,
    feedback,
    infer,
    ingest,
    kb,
    model,
    policy,
    refdata,
    replay,
    reviewers,
    schemas,
    secrets,
    services,
    stack,
    submit,
    tail,
    tenants,
    top,
    topics,
    trace,
)
from aios.errors import AiosError
from aios.runtime.entry import LOG_FORMAT

app = typer.Typer(no_args_is_help=True, help=__doc__, pretty_exceptions_enable=False)
app.add_typer(stack.app, name="stack")
app.add_typer(topics.app, name="topics")
app.add_typer(schemas.app, name="schemas")
app.add_typer(tenants.tenants_app, name="tenants")
tenants.tenants_app.add_typer(callbacks.app, name="callback")
app.add_typer(tenants.keys_app, name="keys")
app.add_typer(tenants.webhooks_app, name="webhooks")
app.add_typer(ingest.app, name="ingest")
app.add_typer(infer.app, name="infer")
app.add_typer(model.app, name="model")
app.add_typer(connectors.app, name="connectors")
app.add_typer(audit.app, name="audit")
app.add_typer(kb.app, name="kb")
app.add_typer(policy.app, name="policy")
app.add_typer(refdata.app, name="refdata")
app.add_typer(reviewers.app, name="reviewers")
app.add_typer(feedback.app, name="feedback")
app.add_typer(secrets.app, name="secrets")
app.add_typer(access.app, name="access")
app.add_typer(documents.app, name="documents")
app.add_typer(acls.app, name="acls")
app.add_typer(consumers.app, name="consumers")
app.command("submit")(submit.submit)
app.command("tail")(tail.tail)
app.command("trace")(trace.trace)
app.command("replay")(replay.replay_command)
app.command("backfill")(backfill.backfill_command)
app.command("up")(services.up)
app.command("down")(services.down)
app.command("ps")(services.ps)
app.command("top")(top.top)
app.command("status")(top.status)


@app.command()
def demo(
    events: int = typer.Option(1000, "--events", min=1, help="Support tickets to send through the pipeline."),
    stop: bool = typer.Option(False, "--stop", help="Stop the demo's receiver, the services and the stack instead."),
) -> None:
    """Run the whole pipeline on the local stack with CLINC150 support tickets, and summarise what happened."""
    from aios.demo import run_demo, stop_demo

    if stop:
        stop_demo()
    else:
        run_demo(events)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at DEBUG level.")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format=LOG_FORMAT,
    )


def run() -> None:
    """Console entry point that turns known errors into a message and exit status 1."""
    try:
        app()
    except AiosError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise SystemExit(1) from None
