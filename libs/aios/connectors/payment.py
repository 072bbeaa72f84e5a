"""`payment.<operation>`: payouts through a payment provider's HTTP API, never two for one invoice or claim.

`schedule` (pay on `execute_on`, e.g. the invoice's due date) and `payout` (pay now) create a payout
from the parameters `amount`, `currency`, `iban`, optional `execute_on` and `description`, and the
identity of what is paid: `vendor_tax_id` or `vendor_name` with `invoice_number`, or `claim_number`.
`cancel` undoes one: it is a saga's compensation, and the payout is the compensated action's result.

Two keys keep a payout single. The action id is the provider's `Idempotency-Key`, so an attempt
repeated after a timeout or a crash (the effect made, its record not) gives back the same payout.
The business reference (`business_reference`) is reserved in the payment ledger before the call,
so a second document of the same invoice or claim, which is another event with other action ids,
is refused while the first one's payout stands.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
from pydantic import AnyHttpUrl, Field, SecretStr

from aios.connectors.base import ActionRequest, ActionResult, ConfiguredConnector, ConnectorConfig
from aios.connectors.errors import ConnectorError, InvalidActionError, TransportError
from aios.connectors.httpcall import json_headers, reference, send
from aios.connectors.payment_ledger import Holder, PaymentLedger
from aios.connectors.policy import HTTP_RETRYABLE, RetryPolicy
from aios.extract.index import vendor_key

CREATE_OPERATIONS = frozenset({"schedule", "payout"})
CANCEL_OPERATION = "cancel"
CANCELLED = "cancelled"
"""The provider's status of a payout that was undone."""


class PaymentConfig(ConnectorConfig):
    url: AnyHttpUrl = Field(description="Base URL of the payout API (`/v1/payouts` is under it).")
    api_key: SecretStr = Field(description="The provider's API key, sent as `Authorization: Bearer`.")


class AlreadyPaid(InvalidActionError):
    """The invoice or claim is paid by another action: paying it again would pay it twice."""


def _identifier(value: str) -> str:
    """An invoice or claim number as documents print it in any layout: letters and digits, upper case."""
    return re.sub(r"[^0-9A-Za-z]", "", value).upper()


def business_reference(params: Mapping[str, str]) -> str:
    """What is paid, the same for every document of it: `invoice:<vendor>:<number>` or `claim:<number>`.

    The keys are those the documents' duplicate check matches on (same vendor and invoice number,
    same claim number), read the same way, so a scan and its born-digital original agree. Amounts
    are left out on purpose: an amount misread on a scan must not make a second payout.
    """
    invoice = _identifier(params.get("invoice_number", ""))
    claim = _identifier(params.get("claim_number", ""))
    if invoice:
        vendor = vendor_key(params.get("vendor_tax_id") or None, params.get("vendor_name") or None)
        if vendor is None:
            raise InvalidActionError("a payout of an invoice needs `vendor_tax_id` or `vendor_name`")
        return f"invoice:{vendor}:{invoice}"
    if claim:
        return f"claim:{claim}"
    raise InvalidActionError(
        "a payout needs the identity of what it pays: `invoice_number` (with the vendor) or `claim_number`"
    )


def is_payout(action_type: str | None) -> bool:
    """An action that creates a payout (not its cancellation, not another connector's)."""
    connector, _, operation = (action_type or "").partition(".")
    return connector == PaymentConnector.name and operation in CREATE_OPERATIONS


def paid_document_type(params: Mapping[str, str]) -> str:
    """What a payout's parameters pay, read as `business_reference` reads them: invoice, claim or other."""
    if _identifier(params.get("invoice_number", "")):
        return "invoice"
    return "claim" if _identifier(params.get("claim_number", "")) else "other"


def payout_body(params: Mapping[str, str], business_ref: str) -> dict[str, str]:
    """The create request: the same for every attempt of one action (the provider compares bodies per key)."""
    body = {"reference": business_ref}
    for name in ("amount", "currency", "iban"):
        value = params.get(name, "").strip()
        if not value:
            raise InvalidActionError(f"a payout needs `{name}`")
        body[name] = value
    for name in ("execute_on", "description"):
        if params.get(name, "").strip():
            body[name] = params[name].strip()
    return body


@dataclass(frozen=True)
class PayoutApi:
    """The provider's payout endpoints, called with one action's key and timeout."""

    client: httpx.AsyncClient
    base: str
    headers: Mapping[str, str]
    timeout_s: float

    async def create(self, body: Mapping[str, str]) -> str:
        payload = json.dumps(body, separators=(",", ":")).encode()
        return reference(await send(self.client, "POST", self.base, payload, self.headers, self.timeout_s))

    async def live(self, business_ref: str) -> list[dict[str, Any]]:
        """The payouts of `business_ref` that were not cancelled."""
        url = str(httpx.URL(self.base, params={"reference": business_ref}))
        listed = (await send(self.client, "GET", url, None, self.headers, self.timeout_s)).json()
        return [payout for payout in listed.get("data", []) if payout.get("status") != CANCELLED]

    async def cancel(self, payout_id: str) -> str:
        url = f"{self.base}/{payout_id}/cancel"
        return reference(await send(self.client, "POST", url, b"{}", self.headers, self.timeout_s))


class PaymentConnector(ConfiguredConnector[PaymentConfig]):
    name: ClassVar[str] = "payment"
    config_model = PaymentConfig
    default_policy: ClassVar[RetryPolicy] = RetryPolicy(
        attempts=8,
        base_delay_s=1.0,
        max_delay_s=60.0,
        deadline_s=1800.0,
        timeout_s=15.0,
        retryable_statuses=HTTP_RETRYABLE,
    )

    def __init__(self, client: httpx.AsyncClient, ledger: PaymentLedger | None = None) -> None:
        """`ledger` is needed to perform payments (the act service), not to check configurations (the CLI)."""
        self.client = client
        self.ledger = ledger

    async def execute(self, request: ActionRequest, config: Mapping[str, Any], policy: RetryPolicy) -> ActionResult:
        parsed = self.parse(config)
        authorization = {"Authorization": SecretStr(f"Bearer {parsed.api_key.get_secret_value()}")}
        api = PayoutApi(
            self.client,
            str(parsed.url).rstrip("/") + "/v1/payouts",
            json_headers(authorization, request.action_id),
            policy.timeout_s,
        )
        if request.operation == CANCEL_OPERATION:
            return await self._cancel(request, api)
        if request.operation not in CREATE_OPERATIONS:
            raise InvalidActionError(
                f"{request.action_type}: payment operations are {', '.join(sorted(CREATE_OPERATIONS))} and cancel"
            )
        if self.ledger is None:
            raise ConnectorError("payments need the payment ledger (performed by the act service only)")
        business_ref = business_reference(request.params)
        body = payout_body(request.params, business_ref)
        holder = await self.ledger.reserve(request.tenant_id, business_ref, request.action_id, request.event_id)
        if holder.action_id != request.action_id:
            await self._take_over(request, business_ref, holder, api)
        payout_id = await api.create(body)
        await self.ledger.paid(request.tenant_id, business_ref, request.action_id, payout_id)
        return ActionResult(payout_id)

    async def _take_over(self, request: ActionRequest, business_ref: str, holder: Holder, api: PayoutApi) -> None:
        """Take `business_ref` from the action holding it, or say why not (paid already, or still under way)."""
        assert self.ledger is not None
        live = await api.live(business_ref)
        if live:
            raise AlreadyPaid(
                f"{business_ref} is paid already: payout {live[0].get('id')} by action {holder.action_id}"
                f" (event {holder.event_id}); not paying it twice"
            )
        if holder.in_progress:
            raise TransportError(f"{business_ref} is being paid by action {holder.action_id}, which has not finished")
        taken = await self.ledger.take_over(
            request.tenant_id, business_ref, holder.action_id, request.action_id, request.event_id
        )
        if not taken:
            raise TransportError(f"{business_ref} was reserved by another action meanwhile")

    async def _cancel(self, request: ActionRequest, api: PayoutApi) -> ActionResult:
        payout_id = request.compensates_ref
        if not payout_id:
            raise InvalidActionError("payment.cancel needs the payout: run it as the compensation of a payout")
        result = await api.cancel(payout_id)
        if self.ledger is not None:
            await self.ledger.cancelled(request.tenant_id, payout_id)
        return ActionResult(result)
