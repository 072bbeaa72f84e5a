"""The simulator's HTTP API: `/v1/payouts` as a payment provider has it, `/admin` for tests and the demo.

Errors are JSON `{"error": {"code", "message"}}` with the status a provider would give: 400 for a
create without `Idempotency-Key`, 401 without the API key, 404 for an unknown payout, 409 for a key
reused with another body, 422 for a body that does not validate (or a refusal fault).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from aios.observability.http import RequestMetrics, add_metrics_route
from aios.payouts_sim.faults import Fault, Faults, Operation
from aios.payouts_sim.settings import PayoutsSimSettings
from aios.payouts_sim.store import IdempotencyConflict, PayoutStore

log = logging.getLogger(__name__)

SERVICE = "payouts-sim"
REPLAYED_HEADER = "Idempotent-Replayed"


class PayoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: str = Field(pattern=r"^[0-9]{1,12}\.[0-9]{2}$", description="Decimal with two places, e.g. 1234.50.")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code.")
    iban: str = Field(pattern=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$", description="Beneficiary IBAN, no spaces.")
    reference: str = Field(min_length=1, max_length=200, description="The business reference (invoice, claim).")
    execute_on: date | None = Field(default=None, description="Pay on this day (scheduled); unset: pay now.")
    description: str | None = Field(default=None, max_length=500)

    @field_validator("amount")
    @classmethod
    def _positive(cls, amount: str) -> str:
        if Decimal(amount) <= 0:
            raise ValueError("amount must be above zero")
        return amount


class _Unauthorised(Exception):
    """The caller did not send the simulator's API key."""


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


class Simulator:
    """The payouts and the faults in force; answers a call as the fault it suffers says."""

    def __init__(self, store: PayoutStore) -> None:
        self.store = store
        self.faults = Faults()

    async def misbehave(self, operation: Operation) -> tuple[Fault | None, JSONResponse | None]:
        """The fault this call suffers, and the answer instead of doing it (None: do it)."""
        fault = self.faults.take(operation)
        if fault is None or fault.mode == "slow":
            return fault, None
        if fault.mode == "refuse":
            return fault, _error(fault.status, fault.reason, f"the payout system refused the {operation}")
        if fault.mode == "timeout":
            await asyncio.sleep(fault.delay_s)
            return fault, _error(504, "timeout", f"the {operation} took too long and was not done")
        return fault, _error(503, "unavailable", "the payout system is unavailable", {"Retry-After": "1"})

    @staticmethod
    async def after(fault: Fault | None) -> None:
        """A slow answer: the effect has happened, the caller hears of it `delay_s` later."""
        if fault is not None and fault.mode == "slow":
            await asyncio.sleep(fault.delay_s)


def payouts_router(sim: Simulator) -> APIRouter:
    router = APIRouter(prefix="/v1/payouts")

    @router.post("", status_code=201)
    async def create_payout(
        body: PayoutRequest,
        response: Response,
        idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
    ) -> Any:
        if not idempotency_key:
            return _error(400, "idempotency_key_missing", "a payout needs an Idempotency-Key header")
        fault, instead = await sim.misbehave("create")
        if instead is not None:
            return instead
        try:
            payout, made = sim.store.create(idempotency_key, body.model_dump(mode="json", exclude_none=True))
        except IdempotencyConflict as exc:
            return _error(409, "idempotency_key_reused", str(exc))
        log.info("%s payout %s for %s", "made" if made else "replayed", payout.id, payout.reference)
        await sim.after(fault)
        if not made:
            response.status_code = 200
            response.headers[REPLAYED_HEADER] = "true"
        return payout.as_json()

    @router.get("")
    async def list_payouts(reference: str) -> Any:
        return {"data": [payout.as_json() for payout in sim.store.by_reference(reference)]}

    @router.get("/{payout_id}")
    async def get_payout(payout_id: str) -> Any:
        fault, instead = await sim.misbehave("get")
        if instead is not None:
            return instead
        payout = sim.store.get(payout_id)
        await sim.after(fault)
        return _error(404, "not_found", f"no payout {payout_id}") if payout is None else payout.as_json()

    @router.post("/{payout_id}/cancel")
    async def cancel_payout(payout_id: str) -> Any:
        fault, instead = await sim.misbehave("cancel")
        if instead is not None:
            return instead
        payout = sim.store.cancel(payout_id)
        await sim.after(fault)
        return _error(404, "not_found", f"no payout {payout_id}") if payout is None else payout.as_json()

    return router


def admin_router(sim: Simulator) -> APIRouter:
    router = APIRouter(prefix="/admin")

    @router.post("/faults", status_code=201)
    async def add_fault(fault: Fault) -> Any:
        sim.faults.add(fault)
        return {"faults": [f.model_dump() for f in sim.faults.listed()]}

    @router.get("/faults")
    async def list_faults() -> Any:
        return {"faults": [f.model_dump() for f in sim.faults.listed()]}

    @router.delete("/faults")
    async def clear_faults() -> Any:
        sim.faults.clear()
        return {"faults": []}

    @router.get("/stats")
    async def stats() -> Any:
        """Payouts per business reference: `paid_twice` lists those with more than one not cancelled."""
        return sim.store.stats()

    return router


def create_app(settings: PayoutsSimSettings | None = None) -> Any:
    """The simulator as an ASGI app (FastAPI inside the request metrics)."""
    settings = settings or PayoutsSimSettings()
    sim = Simulator(PayoutStore(settings.state_path))
    api_key = settings.api_key

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        log.info("%s: payouts kept in %s", SERVICE, settings.state_path)
        yield
        sim.store.close()

    async def authorised(authorization: Annotated[str | None, Header()] = None) -> None:
        if api_key is None:
            return
        expected = f"Bearer {api_key.get_secret_value()}".encode()
        if authorization is None or not hmac.compare_digest(authorization.encode(), expected):
            raise _Unauthorised

    app = FastAPI(title="AIOS payout simulator", lifespan=lifespan)
    app.include_router(payouts_router(sim), dependencies=[Depends(authorised)])
    app.include_router(admin_router(sim), dependencies=[Depends(authorised)])

    @app.exception_handler(_Unauthorised)
    async def unauthorised(_: Request, __: Exception) -> JSONResponse:
        return _error(401, "unauthorised", "send Authorization: Bearer <API key>")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Any:
        return {"status": "ok"}

    add_metrics_route(app)
    return RequestMetrics(app, SERVICE)
