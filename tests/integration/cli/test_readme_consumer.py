"""The README's "Subscribe a new consumer" program, run as written with the settings `aios consumers add` printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from aios.kafka.clients import access
from aios.kafka.serde import Codecs
from aios.paths import project_root
from tests.support.cli import aios
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
    topics: Callable[..., str], kafka_bootstrap: str, schema_registry_url: str, tmp_path: Path
) -> None:
    topic = topics("aios.events.received")
    codecs = Codecs(schema_registry_url, carries={topic: "aios.events.received"})
    values = [event(f"ticket {n}") for n in range(3)]
    produce_raw(kafka_bootstrap, topic, [(v["event_id"].encode(), codecs.encode(topic, v)) for v in values])
    team = f"readme-team-{uuid.uuid4().hex[:8]}"
    added = aios("consumers", "add", team, "--topics", topic, "--json")
    assert added.returncode == 0, added.stderr
    settings = tmp_path / "team.json"
    settings.write_text(added.stdout)
    program = tmp_path / "consumer.py"
    program.write_text(readme_program())

    # Only what the team was handed: no AIOS_* variable of the test's own environment.
    env = {name: value for name, value in os.environ.items() if not name.startswith("AIOS_")}
    env |= {"AIOS_CONSUMER_CONFIG": str(settings), "AIOS_TOPIC": topic, "AIOS_MAX_RECORDS": "3"}
    try:
        result = subprocess.run(
            [sys.executable, str(program)], capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path
        )
    finally:
        if access().secure:
            assert aios("consumers", "remove", team).returncode == 0

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    for value in values:
        assert sum(value["event_id"] in line for line in lines) == 1
