"""Why an action failed; the retry policy decides from the kind of error whether to try again."""

from __future__ import annotations

from aios.errors import AiosError


class ConnectorError(AiosError):
    """An action could not be performed."""


class TransportError(ConnectorError):
    """The target could not be reached or did not answer in time: trying again may succeed."""


class RemoteRefused(ConnectorError):
    """The target answered with an error status (HTTP or SMTP code); the policy says which are worth retrying."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class ConnectorConfigError(ConnectorError):
    """The tenant's configuration for the connector is missing or invalid: retrying cannot help."""


class UnknownConnectorError(ConnectorConfigError):
    """The action type names no connector (`<connector>.<operation>`)."""


class InvalidActionError(ConnectorError):
    """The action's parameters do not fit the connector (a missing recipient, an unknown template field)."""
