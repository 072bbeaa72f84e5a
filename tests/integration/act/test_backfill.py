"""`aios backfill` re-drives a window of decisions through a real act service: nothing already done runs again."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from aios.bench.lineage import decision_value as decision
from aios.kafka.scratch import ScratchTopics
from aios.settings import ConnectionSettings
from tests.integration.act.conftest import ActHarness, make_harness
from tests.support.cli import aios
from tests.support.http_target import HttpTarget


@pytest.fixture
def target() -> Iterator[HttpTarget]:
    receiver = HttpTarget(secret="whsec_test_secret").start()
    yield receiver
    receiver.stop()


def test_a_backfilled_window_delivers_no_webhook_a_second_time(
    connection: ConnectionSettings, migrated_database: str, target: HttpTarget, tmp_path: Path
) -> None:
    group = f"act-{uuid.uuid4().hex[:8]}"
    with ScratchTopics(connection.kafka_bootstrap, connection.schema_registry_url) as scratch:
        act: ActHarness = make_harness(connection, migrated_database, scratch.make)
        service = act.start(tmp_path / "act.log", group)
        try:
            who = f"tenant-{uuid.uuid4().hex[:8]}"
            act.configure(who, "webhook", {"url": f"{target.url}/hooks/{who}", "secret": "whsec_test_secret"})
            sent = [decision(who, [("webhook.post", {"n": str(n)})]) for n in range(3)]
            act.send(*sent)
            ids = {d["event_id"] for d in sent}
            assert len(act.results(ids, 3)) == 3
            target.wait_for(3, f"/hooks/{who}")

            env = {
                "AIOS_KAFKA_BOOTSTRAP": connection.kafka_bootstrap,
                "AIOS_SCHEMA_REGISTRY_URL": connection.schema_registry_url,
            }
            args = ("backfill", "--topic", act.decisions, "--from-time", "10m", "--group", group, "--wait", "90")
            result = aios(*args, "--json", env=env)
            assert result.returncode == 0, result.stderr + service.log()[-3000:]
            summary = json.loads(result.stdout)
            assert (summary["records"], summary["caught_up"]) == (3, True)

            records = act.results(ids, 6)
            time.sleep(1)
            statuses = sorted(r["status"] for r in records)
            assert statuses == ["SKIPPED_DUPLICATE"] * 3 + ["SUCCEEDED"] * 3
            assert len(target.received(f"/hooks/{who}")) == 3, "no webhook was delivered a second time"
        finally:
            assert service.stop() == 0, service.log()[-3000:]
