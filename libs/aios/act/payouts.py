"""Which recorded payment results are payouts made, refused, failed or undone, and of what (pure).

Counted once per recorded result (the store's fence says the result is this executor's), so an
attempt repeated after a crash is not a second payout in the metrics either.
"""

from __future__ import annotations

from typing import Literal

from aios.act.store import ClaimedAction
from aios.connectors.errors import ConnectorError
from aios.connectors.payment import AlreadyPaid, is_payout, paid_document_type
from aios.schemas.records import ActionStatus

PayoutOutcome = Literal["made", "refused", "failed", "compensated", "compensation_failed"]
"""refused: the invoice or claim was paid already (another document of it); compensated: a saga cancelled it."""


def payout_outcome(
    action: ClaimedAction, status: ActionStatus, error: ConnectorError | None = None
) -> tuple[str, PayoutOutcome] | None:
    """(document type, outcome) of a recorded result of a payout or of its cancellation; None for other actions."""
    if action.kind == "compensation":
        if not is_payout(action.compensates_type):
            return None
        paid = paid_document_type(action.compensates_params or {})
        return paid, "compensated" if status == "COMPENSATED" else "compensation_failed"
    if not is_payout(action.action_type):
        return None
    if status == "SUCCEEDED":
        return paid_document_type(action.params), "made"
    return paid_document_type(action.params), "refused" if isinstance(error, AlreadyPaid) else "failed"
