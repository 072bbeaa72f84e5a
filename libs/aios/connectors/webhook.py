"""`webhook.<operation>`: POST the action as JSON to the tenant's URL, signed the way ingest verifies webhooks.

The `AIOS-Signature` header is `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the
tenant's secret (`aios.tenants.signatures`), so receivers verify it exactly as AIOS verifies senders.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
from pydantic import AnyHttpUrl, Field, SecretStr

from aios.connectors.base import ActionRequest, ActionResult, ConfiguredConnector, ConnectorConfig
from aios.connectors.httpcall import json_headers, reference, send
from aios.connectors.policy import HTTP_RETRYABLE, RetryPolicy
from aios.tenants.signatures import SIGNATURE_HEADER, signature_header


class WebhookConfig(ConnectorConfig):
    url: AnyHttpUrl = Field(description="Where actions are POSTed.")
    secret: SecretStr | None = Field(default=None, description="HMAC key of the AIOS-Signature header.")
    headers: dict[str, SecretStr] = Field(default_factory=dict, description="Extra headers (e.g. authorization).")


class WebhookConnector(ConfiguredConnector[WebhookConfig]):
    name: ClassVar[str] = "webhook"
    config_model = WebhookConfig
    default_policy: ClassVar[RetryPolicy] = RetryPolicy(
        attempts=8,
        base_delay_s=1.0,
        max_delay_s=60.0,
        deadline_s=900.0,
        timeout_s=10.0,
        retryable_statuses=HTTP_RETRYABLE,
    )

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def execute(self, request: ActionRequest, config: Mapping[str, Any], policy: RetryPolicy) -> ActionResult:
        parsed = self.parse(config)
        body = json.dumps(request.payload(), separators=(",", ":"), sort_keys=True).encode()
        headers = json_headers(parsed.headers, request.action_id)
        if parsed.secret is not None:
            headers[SIGNATURE_HEADER] = signature_header(parsed.secret.get_secret_value(), int(time.time()), body)
        response = await send(self.client, "POST", str(parsed.url), body, headers, policy.timeout_s)
        return ActionResult(reference(response))
