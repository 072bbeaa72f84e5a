"""The drift job: recent predictions of each served model version against its reference, as gauges.

The classify worker hands every prediction to `observe` (cheap: an append under a lock) and the
registry watcher hands it the versions it serves (`track`). A background thread recomputes the
PSI of each version's recent window every `interval_s` and exports it as
`aios_model_drift_psi{model, version, signal}`; the alert rules watch that gauge. A version
registered before references were stored has none and is not measured.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aios.drift.distribution import Reference, confidence_psi, label_psi
from aios.drift.errors import DriftError
from aios.observability import metrics

log = logging.getLogger(__name__)

VersionKey = tuple[str, int]


@dataclass(frozen=True)
class DriftScore:
    labels: float
    confidence: float
    events: int


class DriftMonitor:
    def __init__(
        self,
        service: str,
        *,
        window_s: float = 1800.0,
        max_events: int = 20_000,
        min_events: int = 500,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.window_s = window_s
        self.max_events = max_events
        self.min_events = min_events
        self.clock = clock
        self._references: dict[VersionKey, Reference] = {}
        self._recent: dict[VersionKey, deque[tuple[float, str, float]]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def track(self, versions: Iterable[tuple[str, int, Mapping[str, Any]]]) -> None:
        """Measure these versions (name, version, registry metrics); others are forgotten."""
        references: dict[VersionKey, Reference] = {}
        for name, version, version_metrics in versions:
            stored = version_metrics.get("reference")
            if stored is None:
                log.info("%s: %s:%d has no reference distribution; drift not measured", self.service, name, version)
                continue
            try:
                references[(name, version)] = Reference.from_json(stored)
            except DriftError as exc:
                log.error("%s: %s:%d: %s", self.service, name, version, exc)
        with self._lock:
            gone = set(self._references) - set(references)
            self._references = references
            self._recent = {key: self._recent.get(key, deque(maxlen=self.max_events)) for key in references}
        for name, version in gone:
            metrics.forget_drift(self.service, name, version)

    def observe(self, name: str, version: int, labels: Sequence[str], confidences: Sequence[float]) -> None:
        """Predictions one version just made."""
        now = self.clock()
        with self._lock:
            recent = self._recent.get((name, version))
            if recent is not None:
                recent.extend((now, label, c) for label, c in zip(labels, confidences, strict=True))

    def compute(self) -> dict[VersionKey, DriftScore]:
        """Scores of versions with at least `min_events` recent predictions; exported as gauges."""
        horizon = self.clock() - self.window_s
        with self._lock:
            for recent in self._recent.values():
                while recent and recent[0][0] < horizon:
                    recent.popleft()
            windows = {key: list(recent) for key, recent in self._recent.items()}
            references = dict(self._references)
        scores: dict[VersionKey, DriftScore] = {}
        for key, window in windows.items():
            if len(window) < self.min_events:
                metrics.forget_drift(self.service, *key)
                continue
            reference = references[key]
            score = DriftScore(
                labels=label_psi(reference, [label for _, label, _ in window]),
                confidence=confidence_psi(reference, [c for _, _, c in window]),
                events=len(window),
            )
            metrics.set_drift(self.service, key[0], key[1], score.labels, score.confidence, score.events)
            scores[key] = score
        return scores

    def start(self, interval_s: float) -> None:
        """Compute every `interval_s` on a daemon thread until `stop()`."""

        def run() -> None:
            while not self._stop.wait(interval_s):
                try:
                    self.compute()
                except Exception:
                    log.exception("%s: drift computation failed", self.service)

        self._thread = threading.Thread(target=run, name="drift-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
