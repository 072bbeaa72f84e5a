"""Faults the simulator is told to inject (`POST /admin/faults`), and which call takes which (pure)."""

from __future__ import annotations

import threading
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Operation = Literal["create", "get", "cancel"]


class Fault(BaseModel):
    """One way to misbehave, for the next `times` calls of `operation` (every call while `times` is unset)."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["refuse", "unavailable", "timeout", "slow"] = Field(
        description="refuse: answer `status` and do nothing (a decline: permanent); unavailable: 503, nothing"
        " done (transient); timeout: nothing done, no answer for `delay_s`, then 504; slow: do it, answer after"
        " `delay_s` (the effect happens before the caller hears of it)."
    )
    operation: Operation | Literal["any"] = Field(default="any", description="Which calls it hits.")
    times: int | None = Field(default=None, ge=1, description="How many calls it hits; unset: all of them.")
    delay_s: float = Field(default=30.0, ge=0, le=600, description="How long timeout and slow hold the answer.")
    status: int = Field(default=422, ge=400, le=599, description="The status of a refusal.")
    reason: str = Field(default="account_closed", description="The error code a refusal names.")


class Faults:
    """The faults in force; each call of an operation takes the first that hits it (thread-safe)."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def listed(self) -> list[Fault]:
        with self._lock:
            return [fault.model_copy() for fault in self._faults]

    def take(self, operation: Operation) -> Fault | None:
        """The fault this call of `operation` suffers, if any; a fault with `times` left loses one."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.operation not in (operation, "any"):
                    continue
                if fault.times is not None:
                    if fault.times == 1:
                        del self._faults[index]
                    else:
                        self._faults[index] = fault.model_copy(update={"times": fault.times - 1})
                return fault
        return None
