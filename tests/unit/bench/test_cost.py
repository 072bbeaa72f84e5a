"""The cost table: CPU per event from process counters, children included, restarted parts left out."""

from __future__ import annotations

import subprocess
import sys
import time

from aios.bench.cost import ProcessRoot, cost_table, cpu_seconds

CHILD = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\ntime.sleep(60)"
PARENT = f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', {CHILD!r}])\ntime.sleep(60)"


def test_a_part_counts_the_cpu_of_its_live_children() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT])
    try:
        root = [ProcessRoot("burner", parent.pid)]
        deadline = time.monotonic() + 120
        while cpu_seconds(root).get("burner", 0.0) < 0.3 and time.monotonic() < deadline:
            time.sleep(0.1)
        # The parent itself only starts an interpreter and sleeps: most of it is the child's burn.
        assert cpu_seconds(root)["burner"] >= 0.3
    finally:
        parent.kill()
        parent.wait()


def test_a_part_that_is_gone_is_skipped() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert cpu_seconds([ProcessRoot("gone", gone.pid)]) == {}


def test_per_event_milliseconds_leave_out_parts_missing_from_a_sample_and_sort_by_cost() -> None:
    before = {"decide": 10.0, "audit": 4.0, "restarted": 1.0}
    after = {"decide": 11.0, "audit": 6.0, "new": 3.0}
    table = cost_table(before, after, events=500, seconds=60)
    assert table.per_event_ms == {"audit": 4.0, "decide": 2.0}
    assert list(table.per_event_ms) == ["audit", "decide"]
    assert table.total_ms == 6.0
