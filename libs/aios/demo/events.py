"""The demo's traffic: CLINC150 test queries as support tickets, with the cases policy must catch.

Mostly banking and credit-card questions (what the demo knowledge base answers), some from the
other domains, some out of scope, some carrying personal data and some with a large amount:
every rule of `policies/demo.yaml` gets traffic. Test-split queries only, so the demo never shows
the model a sentence it trained on.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

DEMO_DOMAINS = ("banking", "credit_cards")
PII_SUFFIXES = (
    " You can reach me at jane.doe@example.com.",
    " Call me back on +44 20 7946 0958.",
    " My card number is 4111 1111 1111 1111.",
    " My IBAN is GB82 WEST 1234 5698 7654 32.",
)


@dataclass(frozen=True)
class DemoEvent:
    text: str
    intent: str
    """The CLINC150 label of the query (`oos` for out-of-scope ones): what a perfect model would say."""
    attributes: dict[str, str] = field(default_factory=dict)
    type: str = "support.ticket"


@dataclass(frozen=True)
class TrafficMix:
    """Shares of the demo's events; the rest are banking and credit-card queries."""

    other_domains: float = 0.15
    out_of_scope: float = 0.10
    with_pii: float = 0.05
    large_amount: float = 0.05


def demo_events(
    data_path: Path, domains_path: Path, count: int, mix: TrafficMix | None = None, seed: int = 0
) -> list[DemoEvent]:
    """`count` events in a shuffled, repeatable order."""
    mix = mix or TrafficMix()
    rng = random.Random(seed)
    data = json.loads(data_path.read_text(encoding="utf-8"))
    domains = json.loads(domains_path.read_text(encoding="utf-8"))
    demo_intents = {intent for name in DEMO_DOMAINS for intent in domains[name]}
    in_domain = [(text, label) for text, label in data["test"] if label in demo_intents]
    elsewhere = [(text, label) for text, label in data["test"] if label not in demo_intents]
    out_of_scope = [(text, "oos") for text, _ in data["oos_test"]]

    n_other, n_oos = round(count * mix.other_domains), round(count * mix.out_of_scope)
    chosen = _draw(rng, elsewhere, n_other) + _draw(rng, out_of_scope, n_oos)
    chosen += _draw(rng, in_domain, count - len(chosen))
    rng.shuffle(chosen)

    events = []
    n_pii, n_amount = round(count * mix.with_pii), round(count * mix.large_amount)
    for number, (text, intent) in enumerate(chosen):
        attributes = {"customer": f"C-{rng.randrange(1000, 9999)}", "channel": rng.choice(("email", "chat", "rpa"))}
        if number < n_pii:
            text += PII_SUFFIXES[number % len(PII_SUFFIXES)]
        elif number < n_pii + n_amount:
            attributes["amount"] = str(rng.randrange(1500, 20000))
        else:
            attributes["amount"] = str(rng.randrange(5, 900))
        events.append(DemoEvent(text, intent, attributes))
    rng.shuffle(events)
    return events


def _draw(rng: random.Random, pool: list[tuple[str, str]], count: int) -> list[tuple[str, str]]:
    """`count` items: without repeats while the pool lasts."""
    drawn: list[tuple[str, str]] = []
    while len(drawn) < count:
        drawn += rng.sample(pool, min(len(pool), count - len(drawn)))
    return drawn
