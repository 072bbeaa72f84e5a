"""The demo's traffic gives every rule of the demo policy something to decide, from test-split queries only."""

from __future__ import annotations

import json
from collections import Counter

from aios.demo.events import DEMO_DOMAINS, PII_SUFFIXES, TrafficMix, demo_events
from aios.paths import project_root
from aios.pii import redact

DATA = project_root() / "data" / "clinc150"


def test_the_mix_follows_its_shares_and_uses_test_queries_only() -> None:
    events = demo_events(DATA / "data_full.json", DATA / "domains.json", 1000, TrafficMix())
    data = json.loads((DATA / "data_full.json").read_text())
    domains = json.loads((DATA / "domains.json").read_text())
    demo_intents = {intent for name in DEMO_DOMAINS for intent in domains[name]}
    test_texts = {text for text, _ in data["test"] + data["oos_test"]}
    kinds = Counter("oos" if e.intent == "oos" else "demo" if e.intent in demo_intents else "other" for e in events)
    assert kinds == {"demo": 750, "other": 150, "oos": 100}
    with_pii = [e for e in events if any(e.text.endswith(suffix) for suffix in PII_SUFFIXES)]
    assert len(with_pii) == 50 and all(redact(e.text).found for e in with_pii)
    assert all(e.text in test_texts for e in events if e not in with_pii)
    assert sum(int(e.attributes.get("amount", 0)) > 1000 for e in events) == 50
    assert all(e.type == "support.ticket" and e.attributes["customer"].startswith("C-") for e in events)


def test_the_same_seed_gives_the_same_traffic() -> None:
    first = demo_events(DATA / "data_full.json", DATA / "domains.json", 200, seed=3)
    assert first == demo_events(DATA / "data_full.json", DATA / "domains.json", 200, seed=3)
    assert first != demo_events(DATA / "data_full.json", DATA / "domains.json", 200, seed=4)
