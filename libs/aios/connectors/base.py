"""The connector interface: one action in, an external reference out, or a ConnectorError saying why not."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from aios.connectors.errors import ConnectorConfigError
from aios.connectors.policy import RetryOverrides, RetryPolicy
from aios.policy.actions import connector_of


@dataclass(frozen=True)
class ActionRequest:
    """One action of a decision, as a connector sees it."""

    action_id: str
    """The idempotency key of the effect: the same on every attempt and every redelivery."""
    action_type: str
    """`<connector>.<operation>`, e.g. `webhook.post`, `http.create_ticket`."""
    tenant_id: str
    event_id: str
    decision_id: str
    params: Mapping[str, str]
    compensates_ref: str | None = None
    """For a compensation: the external reference of what it undoes (the payout to cancel, the posting to reverse)."""

    @property
    def connector(self) -> str:
        return connector_of(self.action_type)

    @property
    def operation(self) -> str:
        return self.action_type.partition(".")[2]

    def payload(self) -> dict[str, Any]:
        """The action as JSON for receivers that take it whole (webhooks)."""
        return {
            "action_id": self.action_id,
            "type": self.action_type,
            "operation": self.operation,
            "tenant_id": self.tenant_id,
            "event_id": self.event_id,
            "decision_id": self.decision_id,
            "params": dict(self.params),
        }


@dataclass(frozen=True)
class ActionResult:
    external_ref: str | None
    """The receiver's id for what it did (ticket id, message id), when it says."""


class Connector(Protocol):
    @property
    def name(self) -> str:
        """What action types start with: `webhook` for `webhook.post`."""
        ...

    def policy(self, config: Mapping[str, Any]) -> RetryPolicy:
        """The connector's retry policy with the tenant's overrides applied."""
        ...

    def check_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The configuration to store for a tenant, or ConnectorConfigError saying what is wrong."""
        ...

    def describe_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The configuration with secrets masked, for display."""
        ...

    async def execute(self, request: ActionRequest, config: Mapping[str, Any], policy: RetryPolicy) -> ActionResult:
        """Perform the action once, passing `request.action_id` downstream as its idempotency key."""
        ...


class ConnectorConfig(BaseModel):
    """Settings every connector's per-tenant configuration shares."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    retry: RetryOverrides | None = None


C = TypeVar("C", bound=ConnectorConfig)


class ConfiguredConnector(Generic[C]):
    """Configuration handling shared by the connectors: validation, policy, masking."""

    name: ClassVar[str]
    config_model: type[C]
    default_policy: ClassVar[RetryPolicy]

    def parse(self, config: Mapping[str, Any]) -> C:
        try:
            return self.config_model.model_validate(dict(config))
        except ValidationError as exc:
            if not config:
                raise ConnectorConfigError(
                    f"the tenant has no {self.name} configuration (aios connectors set --connector {self.name})"
                ) from None
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in exc.errors())
            raise ConnectorConfigError(f"{self.name} configuration is invalid: {problems}") from None

    def policy(self, config: Mapping[str, Any]) -> RetryPolicy:
        return self.default_policy.with_overrides(self.parse(config).retry)

    def check_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        self.parse(config)
        stored: dict[str, Any] = json.loads(json.dumps(dict(config)))
        return stored

    def describe_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        return self.parse(config).model_dump(mode="json", exclude_none=True)
