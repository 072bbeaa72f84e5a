"""A crash between performing an effect and recording it: the action runs again with the same key.

The act process is killed (SIGKILL) while the receiver is handling its request, so the effect
happens and nothing is recorded. A new process claims the action when its lease ends and sends
it again with the same Idempotency-Key; the receiver recognises the key and performs nothing new.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from aios.bench.lineage import decision_value as decision
from aios.settings import ConnectionSettings
from tests.integration.act.conftest import make_harness
from tests.support.http_target import HttpTarget


def test_an_effect_performed_before_a_crash_is_not_performed_again(
    connection: ConnectionSettings, migrated_database: str, topics: Callable[..., str], tmp_path: Path
) -> None:
    act = make_harness(connection, migrated_database, topics)
    target = HttpTarget().start()
    try:
        tenant = f"tenant-{uuid.uuid4().hex[:8]}"
        target.slow("/hooks", 2.0)
        act.configure(tenant, "webhook", {"url": f"{target.url}/hooks", "retry": {"timeout_s": 5}})
        group = f"act-{uuid.uuid4().hex[:8]}"
        first = act.start(tmp_path / "act-1.log", group, lease_s="3")
        sent = decision(tenant, [("webhook.post", {"message": "refund approved"})])
        act.send(sent)
        target.wait_for(1, "/hooks")
        first.kill()
        assert act.inbox_status(sent["actions"][0]["action_id"]) == "running", "nothing recorded before the crash"
        second = act.start(tmp_path / "act-2.log", group, lease_s="3")
        (record,) = act.results({sent["event_id"]}, 1)
        assert second.stop() == 0
    finally:
        target.stop()
    action_id = sent["actions"][0]["action_id"]
    requests = target.received("/hooks")
    assert [r.key for r in requests] == [action_id, action_id], "sent twice, with the same idempotency key"
    assert list(target.effects) == [action_id], "performed once"
    assert (record["status"], record["attempts"], record["external_ref"]) == ("SUCCEEDED", 2, "ref-1")
