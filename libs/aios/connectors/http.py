"""`http.<operation>`: a JSON API call (create a CRM ticket, update a record) built from a template.

The tenant's configuration names a base URL and, per operation, the method, path and body
template; `{name}` in any string of the template is replaced by the action's parameter of that
name or by `action_id`, `event_id`, `tenant_id`, `decision_id` (and in a compensation by `compensates_ref`,
what the undone action's call returned: the posting to reverse). An operation without a template
POSTs its parameters as a JSON object to `<url>/<operation>`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import httpx
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr

from aios.connectors.base import ActionRequest, ActionResult, ConfiguredConnector, ConnectorConfig
from aios.connectors.errors import InvalidActionError
from aios.connectors.httpcall import json_headers, reference, send
from aios.connectors.policy import HTTP_RETRYABLE, RetryPolicy

_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class HttpOperation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["POST", "PUT", "PATCH", "DELETE"] = "POST"
    path: str = Field(default="", description="Appended to the base URL; may use {fields}.")
    body: Any = Field(default=None, description="JSON template; None sends the parameters as an object.")
    ref_field: str | None = Field(default="id", description="Field of the JSON answer that names the result.")


class HttpConfig(ConnectorConfig):
    url: AnyHttpUrl = Field(description="Base URL of the API.")
    headers: dict[str, SecretStr] = Field(default_factory=dict, description="Sent with every call (authorization).")
    operations: dict[str, HttpOperation] = Field(default_factory=dict)


def render(template: Any, values: Mapping[str, str]) -> Any:
    """`template` with `{name}` replaced in every string; an unknown name is an InvalidActionError."""
    if isinstance(template, str):

        def value(match: re.Match[str]) -> str:
            name = match[1]
            if name not in values:
                raise InvalidActionError(f"template field {{{name}}} is neither a parameter nor an action field")
            return values[name]

        return _FIELD.sub(value, template)
    if isinstance(template, dict):
        return {key: render(item, values) for key, item in template.items()}
    if isinstance(template, list):
        return [render(item, values) for item in template]
    return template


class HttpConnector(ConfiguredConnector[HttpConfig]):
    name: ClassVar[str] = "http"
    config_model = HttpConfig
    default_policy: ClassVar[RetryPolicy] = RetryPolicy(
        attempts=5,
        base_delay_s=1.0,
        max_delay_s=30.0,
        deadline_s=600.0,
        timeout_s=10.0,
        retryable_statuses=HTTP_RETRYABLE,
    )

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def execute(self, request: ActionRequest, config: Mapping[str, Any], policy: RetryPolicy) -> ActionResult:
        parsed = self.parse(config)
        operation = parsed.operations.get(request.operation) or HttpOperation(path=request.operation)
        values = {
            **request.params,
            "action_id": request.action_id,
            "event_id": request.event_id,
            "tenant_id": request.tenant_id,
            "decision_id": request.decision_id,
            **({"compensates_ref": request.compensates_ref} if request.compensates_ref else {}),
        }
        body = dict(request.params) if operation.body is None else render(operation.body, values)
        url = str(parsed.url).rstrip("/") + "/" + render(operation.path, values).lstrip("/")
        headers = json_headers(parsed.headers, request.action_id)
        payload = json.dumps(body, separators=(",", ":")).encode()
        response = await send(self.client, operation.method, url, payload, headers, policy.timeout_s)
        return ActionResult(reference(response, operation.ref_field))


class ErpConnector(HttpConnector):
    """`erp.<operation>`: the tenant's ERP (post an invoice, reverse the posting), an API configured like `http`."""

    name: ClassVar[str] = "erp"


class ClaimsConnector(HttpConnector):
    """`claims.<operation>`: the tenant's claims system (settle a claim, reopen it), configured like `http`."""

    name: ClassVar[str] = "claims"
