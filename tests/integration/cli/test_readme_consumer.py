"""The README's "Subscribe a new consumer" program, run as written, reads what AIOS wrote."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from aios.kafka.serde import Codecs
from aios.paths import project_root
from tests.support.events import event
from tests.support.kafka_io import produce_raw

HEADING = "## Subscribe a new consumer"


def readme_program() -> str:
    """The first python block between the heading and the next section."""
    readme = (project_root() / "README.md").read_text()
    section = readme.split(f"\n{HEADING}\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"^```python\n(.*?)^```$", section, re.DOTALL | re.MULTILINE)
    assert match, f"no python block under {HEADING!r}"
    return match.group(1)


def test_the_readme_consumer_prints_the_events_produced(
    topics: Callable[..., str], kafka_bootstrap: str, schema_registry_url: str, group_id: str, tmp_path: Path
) -> None:
    topic = topics("aios.events.received")
    codecs = Codecs(schema_registry_url, carries={topic: "aios.events.received"})
    values = [event(f"ticket {n}") for n in range(3)]
    produce_raw(kafka_bootstrap, topic, [(v["event_id"].encode(), codecs.encode(topic, v)) for v in values])
    program = tmp_path / "consumer.py"
    program.write_text(readme_program())

    env = {
        **os.environ,
        "AIOS_TOPIC": topic,
        "AIOS_GROUP": group_id,
        "AIOS_MAX_RECORDS": "3",
        "AIOS_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "AIOS_SCHEMA_REGISTRY_URL": schema_registry_url,
    }
    result = subprocess.run(
        [sys.executable, str(program)], capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    for value in values:
        assert sum(value["event_id"] in line for line in lines) == 1
