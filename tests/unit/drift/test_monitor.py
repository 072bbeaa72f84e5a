"""The drift job's gauge moves when the stream of predictions shifts, and only for measured versions."""

from __future__ import annotations

import random

from prometheus_client import REGISTRY

from aios.drift.distribution import Reference
from aios.drift.monitor import DriftMonitor

LABELS = [f"intent_{i}" for i in range(20)]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def gauge(service: str, version: int, signal: str = "labels") -> float | None:
    return REGISTRY.get_sample_value(
        "aios_model_drift_psi", {"service": service, "model": "intents", "version": str(version), "signal": signal}
    )


def measured(service: str, version: int, signal: str = "labels") -> float:
    """The gauge's value, which the test expects to be exported."""
    value = gauge(service, version, signal)
    assert value is not None, f"no drift gauge for {service} version {version} ({signal})"
    return value


def reference(rng: random.Random) -> dict:
    labels = [rng.choice(LABELS) for _ in range(2000)]
    return {"reference": Reference.from_predictions(labels, [rng.uniform(0.7, 1) for _ in labels]).to_json()}


def feed(monitor: DriftMonitor, rng: random.Random, labels: list[str], n: int, confidence: tuple[float, float]) -> None:
    chosen = [rng.choice(labels) for _ in range(n)]
    monitor.observe("intents", 3, chosen, [rng.uniform(*confidence) for _ in chosen])


def test_the_gauge_rises_when_the_stream_shifts_and_falls_when_it_recovers() -> None:
    rng, clock = random.Random(0), Clock()
    monitor = DriftMonitor("drift-test-shift", window_s=600, min_events=200, clock=clock)
    monitor.track([("intents", 3, reference(rng))])

    feed(monitor, rng, LABELS, 400, (0.7, 1.0))
    monitor.compute()
    assert measured("drift-test-shift", 3) < 0.1
    assert measured("drift-test-shift", 3, "confidence") < 0.1

    clock.now += 601  # the stable window ages out; only shifted predictions remain
    feed(monitor, rng, LABELS[:3], 400, (0.3, 0.6))
    monitor.compute()
    assert measured("drift-test-shift", 3) > 0.25  # the AiosPredictionDrift threshold
    assert measured("drift-test-shift", 3, "confidence") > 0.25
    assert (
        REGISTRY.get_sample_value(
            "aios_model_drift_window_events", {"service": "drift-test-shift", "model": "intents", "version": "3"}
        )
        == 400
    )

    clock.now += 601
    feed(monitor, rng, LABELS, 400, (0.7, 1.0))
    monitor.compute()
    assert measured("drift-test-shift", 3) < 0.1


def test_too_few_predictions_export_nothing_rather_than_noise() -> None:
    rng = random.Random(1)
    monitor = DriftMonitor("drift-test-few", min_events=200, clock=Clock())
    monitor.track([("intents", 3, reference(rng))])
    feed(monitor, rng, LABELS[:1], 50, (0.9, 1.0))
    assert monitor.compute() == {}
    assert gauge("drift-test-few", 3) is None


def test_versions_without_a_reference_or_no_longer_served_are_not_measured() -> None:
    rng = random.Random(2)
    monitor = DriftMonitor("drift-test-track", min_events=10, clock=Clock())
    monitor.track([("intents", 3, reference(rng)), ("intents", 1, {"validation": {"accuracy": 0.9}})])
    feed(monitor, rng, LABELS, 50, (0.7, 1.0))
    monitor.observe("intents", 1, ["intent_0"] * 50, [0.9] * 50)
    assert set(monitor.compute()) == {("intents", 3)}
    assert gauge("drift-test-track", 3) is not None

    monitor.track([])  # version 3 retired
    assert gauge("drift-test-track", 3) is None
    assert monitor.compute() == {}
