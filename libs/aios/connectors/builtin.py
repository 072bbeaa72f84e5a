"""The connectors the act service knows, by the name action types start with."""

from __future__ import annotations

import httpx

from aios.connectors.base import Connector
from aios.connectors.email import EmailConnector
from aios.connectors.errors import UnknownConnectorError
from aios.connectors.http import ClaimsConnector, ErpConnector, HttpConnector
from aios.connectors.log import LogConnector
from aios.connectors.payment import PaymentConnector
from aios.connectors.payment_ledger import PaymentLedger
from aios.connectors.webhook import WebhookConnector
from aios.policy.actions import connector_of


def default_connectors(client: httpx.AsyncClient, ledger: PaymentLedger | None = None) -> dict[str, Connector]:
    """The HTTP connectors share `client` (its connection pool); email and log need none.

    `ledger`: the payment ledger, without which payments are refused (checking configurations needs none).
    """
    connectors: list[Connector] = [
        WebhookConnector(client),
        HttpConnector(client),
        ErpConnector(client),
        ClaimsConnector(client),
        PaymentConnector(client, ledger),
        EmailConnector(),
        LogConnector(),
    ]
    return {connector.name: connector for connector in connectors}


def connector_for(connectors: dict[str, Connector], action_type: str) -> Connector:
    name = connector_of(action_type)
    if not action_type.partition(".")[2] or name not in connectors:
        raise UnknownConnectorError(
            f"action type {action_type!r} names no connector: use <connector>.<operation> with one of "
            + ", ".join(sorted(connectors))
        )
    return connectors[name]
