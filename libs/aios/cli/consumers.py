"""`aios consumers`: read-only principals for subscribing teams, and the client settings they need."""

from __future__ import annotations

import json

import typer
from rich.console import Console

from aios.kafka.clients import access, kafka_config
from aios.kafka.credentials import security_layout
from aios.kafka.subscribers import (
    Subscriber,
    SubscriberError,
    add_subscriber,
    client_settings,
    load_subscribers,
    remove_subscriber,
)
from aios.settings import ConnectionSettings

app = typer.Typer(no_args_is_help=True, help=__doc__)


def _admin(connection: ConnectionSettings) -> dict[str, object]:
    if not access(connection).secure:
        raise SubscriberError(
            "the stack runs with security off (development only): every client reads every topic without a principal"
        )
    return kafka_config(connection.kafka_bootstrap, connection)


@app.command()
def add(
    name: str = typer.Argument(..., help="The team's principal, e.g. billing-analytics."),
    topics: str = typer.Option(..., "--topics", help="Topics it may read, comma separated."),
    group_prefix: str | None = typer.Option(
        None, "--group-prefix", help="Its consumer groups start with this (default: NAME)."
    ),
    as_json: bool = typer.Option(
        False, "--json", help='One object: "consumer" for Consumer(…), "schema_registry" for SchemaRegistryClient(…).'
    ),
) -> None:
    """Create a read-only principal on TOPICS and its groups, and print its client settings (with the password)."""
    connection = ConnectionSettings()
    wanted = [topic.strip() for topic in topics.split(",") if topic.strip()]
    if access(connection).secure:
        subscriber = add_subscriber(_admin(connection), security_layout(), name, wanted, group_prefix)
    else:
        typer.echo("security is off (development only): no principal made, anyone may read these topics", err=True)
        subscriber = Subscriber(name=name, topics=wanted, group_prefix=group_prefix or name)
    settings = client_settings(
        subscriber, access(connection, subscriber.name), connection.kafka_bootstrap, connection.schema_registry_url
    )
    if as_json:
        typer.echo(json.dumps(settings, indent=2))
        return
    typer.echo("# Kafka client (librdkafka properties)")
    for key, value in settings["consumer"].items():
        typer.echo(f"{key}={str(value).lower() if isinstance(value, bool) else value}")
    typer.echo("# schema registry (SchemaRegistryClient)")
    for key, value in settings["schema_registry"].items():
        typer.echo(f"{key}={value}")


@app.command("list")
def list_consumers() -> None:
    """Every subscribing team with its topics and group prefix."""
    console = Console()
    for subscriber in load_subscribers(security_layout()).values():
        console.print(f"{subscriber.name:24} groups {subscriber.group_prefix}*  topics {', '.join(subscriber.topics)}")


@app.command()
def remove(name: str = typer.Argument(..., help="The team to remove.")) -> None:
    """Delete the team's ACLs, SCRAM user and registry access."""
    connection = ConnectionSettings()
    remove_subscriber(_admin(connection), security_layout(), name)
    Console().print(f"removed {name}")
