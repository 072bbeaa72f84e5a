"""The scheduler service as a real process on a scratch database: it runs a due retraining as the `aios model
retrain` command and records how it went, and publishes rollout state for the rollback alert."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from aios.db.pool import open_pool
from aios.retraining.schedule import Schedule, ScheduleStore
from aios.rollout.plan import parse_plan
from aios.rollout.store import RolloutStore
from aios.settings import ConnectionSettings
from tests.support.http_target import free_port
from tests.support.services import ServiceProcess, stack_env


def test_a_due_retraining_runs_and_a_rollback_is_published(
    connection: ConnectionSettings, migrated_database: str, tmp_path: Path
) -> None:
    async def prepare() -> None:
        async with open_pool(migrated_database, max_size=1) as pool:
            # An unknown tenant: the command runs and fails at once, which is all this test needs to see.
            await ScheduleStore(pool).set("intents", "no-such-tenant", 3600, ["--margin=0.05"])
            store = RolloutStore(pool)
            plan = parse_plan("steps: [{name: all, share: 1}]")
            rollout = await store.start("model", "intents-test", "7", plan, {})
            await store.finish(rollout.rollout_id, "rolled_back", "all: agreement 0.1 below 0.9")

    asyncio.run(prepare())
    port = free_port()
    env = {
        **stack_env(connection, migrated_database),
        "AIOS_SCHEDULER_INTERVAL_S": "1",
        "AIOS_SCHEDULER_METRICS_PORT": str(port),
    }
    service = ServiceProcess("services.scheduler", env, tmp_path / "scheduler.log")
    try:
        deadline = time.monotonic() + 120
        schedules: list[Schedule] = []
        while time.monotonic() < deadline:
            schedules = asyncio.run(_schedules(migrated_database))
            if schedules and schedules[0].last_result:
                break
            assert service.running(), service.log()[-3000:]
            time.sleep(1)
        assert schedules[0].last_result is not None, service.log()[-3000:]
        assert schedules[0].last_result.startswith("exit 1:") and "no-such-tenant" in schedules[0].last_result
        assert schedules[0].next_run_at.timestamp() > time.time() + 3000, "the next run is an interval away"
        page = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert 'aios_rollout_last_rollback_timestamp_seconds{kind="model",name="intents-test"}' in page
    finally:
        assert service.stop() == 0, service.log()[-3000:]


async def _schedules(dsn: str) -> list[Schedule]:
    async with open_pool(dsn, max_size=1) as pool:
        return await ScheduleStore(pool).all()
