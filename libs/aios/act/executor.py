"""Performs due actions: claim from the inbox, run the connector once, record the result.

An attempt that fails with an error the connector's policy calls retryable is scheduled again
(a row due later, so nothing waits in memory and nothing blocks other tenants); otherwise the
action fails: a FAILED record, a dead letter with the reason, and the decision's saga.

What is guaranteed: a recorded result is never redone, and a redelivered decision adds nothing.
Between performing an effect and recording it a crash can happen; the action's lease then runs
out and it is performed again with the same action id as idempotency key, which the receiver
uses to recognise the repeat. Effects are therefore exactly once where the receiver honours the
key (`Idempotency-Key`, `Message-ID`), and at least once otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from aios.act.payouts import payout_outcome
from aios.act.plan import ACTION_FAILED, COMPENSATION_FAILED
from aios.act.reports import Reports
from aios.act.settings import ActSettings
from aios.act.store import ActStore, ClaimedAction
from aios.connectors.base import ActionRequest, ActionResult, Connector
from aios.connectors.builtin import connector_for
from aios.connectors.config import ConnectorConfigs
from aios.connectors.errors import ConnectorError, TransportError
from aios.connectors.policy import RetryPolicy
from aios.observability import metrics
from aios.runtime.background import WakeableTask
from aios.schemas.records import ActionStatus

log = logging.getLogger(__name__)


class Executor(WakeableTask):
    """Wake it when actions may have become due (new intake, a freed slot); it also polls for retries."""

    def __init__(
        self,
        store: ActStore,
        configs: ConnectorConfigs,
        connectors: dict[str, Connector],
        reports: Reports,
        settings: ActSettings,
        *,
        on_recorded: Callable[[], None] = lambda: None,
        service: str = "act",
    ) -> None:
        super().__init__(settings.poll_interval_s, f"{service} executor")
        self.store = store
        self.configs = configs
        self.connectors = connectors
        self.reports = reports
        self.settings = settings
        self.on_recorded = on_recorded
        self.service = service
        self._running: dict[asyncio.Task[None], ClaimedAction] = {}

    async def step(self) -> None:
        await self.fill()

    async def stop(self, drain_s: float) -> None:
        """Claim nothing more; let actions under way finish for `drain_s`, hand the rest back."""
        self.stopping = True
        self.wake()
        if not self._running:
            return
        _, late = await asyncio.wait(list(self._running), timeout=drain_s)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    async def fill(self) -> int:
        """Claim due actions into free slots and start them; how many were started."""
        free = self.settings.concurrency - len(self._running)
        if free <= 0 or self.stopping:
            return 0
        running = Counter(action.tenant_id for action in self._running.values())
        claimed = await self.store.claim(free, self.settings.tenant_concurrency, running, self.settings.lease_s)
        for action in claimed:
            task = asyncio.create_task(self._perform_in_slot(action))
            self._running[task] = action
        metrics.ACT_IN_FLIGHT.labels(self.service).set(len(self._running))
        return len(claimed)

    async def _perform_in_slot(self, action: ClaimedAction) -> None:
        try:
            await self.perform(action)
        except asyncio.CancelledError:
            # Stopping: whatever the attempt did, it is performed again with the same idempotency key.
            await asyncio.shield(self.store.release(action))
            raise
        except Exception:
            log.exception(
                "%s: cannot record action %s; it runs again when its lease ends", self.service, action.action_id
            )
        finally:
            self._running.pop(asyncio.current_task(), None)  # type: ignore[arg-type]
            metrics.ACT_IN_FLIGHT.labels(self.service).set(len(self._running))
            self.wake()

    async def perform(self, action: ClaimedAction) -> None:
        """One attempt of `action` and the recording of its outcome."""
        started = time.monotonic()
        policy: RetryPolicy | None = None
        connector_name = action.action_type.partition(".")[0]
        try:
            connector = connector_for(self.connectors, action.action_type)
            config = await self.configs.get(action.tenant_id, connector.name)
            policy = connector.policy(config)
            async with asyncio.timeout(policy.timeout_s):
                result = await connector.execute(_request(action), config, policy)
        except TimeoutError:
            error: ConnectorError = TransportError(f"no result within {policy.timeout_s if policy else 0:g}s")
        except ConnectorError as exc:
            error = exc
        except Exception as exc:
            log.exception("%s: connector %s raised", self.service, connector_name)
            error = ConnectorError(f"{type(exc).__name__}: {exc}")
        else:
            metrics.ACT_ATTEMPT_SECONDS.labels(self.service, connector_name).observe(time.monotonic() - started)
            await self._succeeded(action, result)
            return
        metrics.ACT_ATTEMPT_SECONDS.labels(self.service, connector_name).observe(time.monotonic() - started)
        elapsed = action.elapsed_s + time.monotonic() - started
        delay = policy.next_delay_s(error, action.attempts, elapsed) if policy else None
        reason = f"{action.action_type} attempt {action.attempts}: {error}"
        if delay is not None:
            log.info("%s: %s; retrying in %.1fs", self.service, reason, delay)
            if await self.store.retry_later(action, delay, reason):
                metrics.ACT_RETRIES.labels(self.service, connector_name).inc()
            return
        await self._failed(action, reason, error)

    async def _succeeded(self, action: ClaimedAction, result: ActionResult) -> None:
        status: ActionStatus
        if action.kind == "compensation":
            assert action.compensates is not None and action.compensates_type is not None
            status = "COMPENSATED"
            record = self.reports.executed(
                action, status, external_ref=result.external_ref, about=(action.compensates, action.compensates_type)
            )
        else:
            status = "SUCCEEDED"
            record = self.reports.executed(action, status, external_ref=result.external_ref)
        if await self.store.succeed(action, result.external_ref, [record]):
            _count(self.service, action.action_type, status)
            _count_payout(self.service, action, status)
            self.on_recorded()

    async def _failed(self, action: ClaimedAction, reason: str, error: ConnectorError) -> None:
        if action.kind == "compensation":
            kind = COMPENSATION_FAILED
            reason = f"compensating action {action.compensates} failed permanently: {reason}"
        else:
            kind = ACTION_FAILED
            reason = f"action {action.action_id} failed permanently: {reason}"
        log.warning("%s: event %s: %s", self.service, action.event_id, reason)
        records = [
            self.reports.executed(action, "FAILED", error=reason),
            self.reports.dead_letter(action, kind, reason),
        ]
        if await self.store.fail(action, reason, records):
            _count(self.service, action.action_type, "FAILED")
            _count_payout(self.service, action, "FAILED", error)
            metrics.DEAD_LETTERS.labels(self.service, action.source.topic, kind).inc()
            self.on_recorded()


def _request(action: ClaimedAction) -> ActionRequest:
    return ActionRequest(
        action_id=action.action_id,
        action_type=action.action_type,
        tenant_id=action.tenant_id,
        event_id=action.event_id,
        decision_id=action.decision_id,
        params=action.params,
        compensates_ref=action.compensates_ref,
    )


def _count(service: str, action_type: str, status: str) -> None:
    metrics.ACT_ACTIONS.labels(service, action_type.partition(".")[0], status.lower()).inc()


def _count_payout(
    service: str, action: ClaimedAction, status: ActionStatus, error: ConnectorError | None = None
) -> None:
    """A payout made, refused, failed or undone, by tenant and what it pays; upload to payout when made."""
    outcome = payout_outcome(action, status, error)
    if outcome is None:
        return
    document_type, what = outcome
    metrics.PAYOUTS.labels(service, action.tenant_id, document_type, what).inc()
    if what == "made":
        waited = max(0.0, (datetime.now(UTC) - action.occurred_at).total_seconds())
        metrics.PAYOUT_SECONDS.labels(service, document_type).observe(waited)
