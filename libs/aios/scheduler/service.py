"""`python -m services.scheduler`: every `interval_s`, run the retrainings that are due and publish rollout state.

A retraining runs as `aios model retrain NAME --tenant T ...` in a child process, the very command an
operator types, so a scheduled run and a manual one cannot differ; its last output line is recorded
as the schedule's result. Rollouts run in the process that started them (`aios model rollout`); this
service reads their rows so Prometheus sees the step each is on and when one was last rolled back
(the `AiosRolloutRolledBack` alert).
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import threading

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from aios.db.migrations import migrate
from aios.db.pool import open_pool
from aios.observability import metrics
from aios.retraining.schedule import Schedule, ScheduleStore
from aios.rollout.store import RolloutStore
from aios.runtime.catalog import service
from aios.runtime.worker import ServiceSettings, Worker, WorkerSpec

log = logging.getLogger(__name__)

SERVICE = "scheduler"
RETRAIN = [sys.executable, "-c", "from aios.cli.main import run; run()", "model", "retrain"]


class SchedulerSettings(ServiceSettings):
    """Read from `AIOS_SCHEDULER_*` variables."""

    model_config = SettingsConfigDict(env_prefix="AIOS_SCHEDULER_", extra="ignore", frozen=True)

    metrics_port: int = Field(default=service(SERVICE).port, ge=0, description="Serves /metrics; 0 turns it off.")
    interval_s: float = Field(default=30.0, gt=0, description="How often schedules and rollouts are read.")
    retrain_timeout_s: float = Field(default=6 * 3600, gt=0, description="Longest a scheduled retraining may run.")


class Scheduler:
    def __init__(self, postgres_dsn: str, settings: SchedulerSettings) -> None:
        self.postgres_dsn = postgres_dsn
        self.settings = settings
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                asyncio.run(self.tick())
            except Exception:
                log.exception("%s: tick failed; trying again", SERVICE)
            self._stop.wait(self.settings.interval_s)

    def stop(self) -> None:
        self._stop.set()

    async def tick(self) -> None:
        async with open_pool(self.postgres_dsn, max_size=2) as pool:
            await migrate(pool)
            await _publish_rollouts(RolloutStore(pool))
            schedules = ScheduleStore(pool)
            for due in await schedules.claim_due():
                await schedules.record(due.name, due.tenant_id, await asyncio.to_thread(self._retrain, due))

    def _retrain(self, due: Schedule) -> str:
        command = [*RETRAIN, due.name, "--tenant", due.tenant_id, *due.arguments]
        log.info("%s: retraining %s for tenant %s", SERVICE, due.name, due.tenant_id)
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=self.settings.retrain_timeout_s)
        except subprocess.TimeoutExpired:
            return f"timed out after {self.settings.retrain_timeout_s:.0f}s"
        lines = (done.stdout + done.stderr).strip().splitlines()
        result = f"exit {done.returncode}: {lines[-1] if lines else ''}"
        (log.info if done.returncode == 0 else log.warning)(
            "%s: %s for %s: %s", SERVICE, due.name, due.tenant_id, result
        )
        return result


async def _publish_rollouts(store: RolloutStore) -> None:
    metrics.ROLLOUT_STEP.clear()
    for rollout in await store.recent(100):
        if rollout.state == "running":
            metrics.ROLLOUT_STEP.labels(rollout.kind, rollout.name, rollout.version).set(rollout.step)
    for kind, name, at in await store.last_rollbacks():
        metrics.ROLLOUT_LAST_ROLLBACK.labels(kind, name).set(at.timestamp())


def start_scheduler(worker: Worker[SchedulerSettings]) -> Scheduler:
    return Scheduler(worker.connection.postgres_dsn.get_secret_value(), worker.settings)


def scheduler(settings: SchedulerSettings) -> WorkerSpec[SchedulerSettings]:
    """Run due retrainings and publish rollout state until SIGTERM."""
    return WorkerSpec(SERVICE, settings, run=start_scheduler)
