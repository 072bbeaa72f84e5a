"""Speed of the model alone: the forward pass and the decision on tensors already in memory.

Kept free of Kafka, so it also runs where only torch is installed (a lent GPU machine).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from aios.inference.classifier import TextClassifier
from aios.inference.encoder import SentenceEncoder, length_sorted_batches
from aios.inference.training import Example
from aios.stats import percentile


@dataclass
class Throughput:
    label: str
    records: int
    seconds: float
    batch_ms: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    @property
    def p50_ms(self) -> float:
        return percentile(self.batch_ms, 50)

    @property
    def p99_ms(self) -> float:
        return percentile(self.batch_ms, 99)


Batch = tuple[torch.Tensor, torch.Tensor]


def padded_batches(encoder: SentenceEncoder, texts: Sequence[str], batch_size: int) -> list[Batch]:
    """Token ids and masks of length-sorted batches, made before any clock starts."""
    return [
        encoder.pad(encoder.tokenize([texts[i] for i in positions]))
        for positions in length_sorted_batches([len(text) for text in texts], batch_size)
    ]


@torch.inference_mode()
def timed(label: str, records: int, batches: Sequence[Batch], step: Callable[[Batch], object]) -> Throughput:
    """`step` over every batch, each timed; the rate counts `records` over the whole run."""
    timings = []
    started = time.perf_counter()
    for batch in batches:
        batch_started = time.perf_counter()
        step(batch)
        timings.append((time.perf_counter() - batch_started) * 1000)
    return Throughput(label, records, time.perf_counter() - started, timings)


def raw_model(model: TextClassifier, texts: Sequence[str], batch_size: int) -> Throughput:
    """Forward pass and decision only, on tensors tokenized and padded before the clock starts."""
    encoder = model.encoder
    return timed(
        f"raw model, batch {batch_size}",
        len(texts),
        padded_batches(encoder, texts, batch_size),
        lambda batch: model.decide(encoder(*batch).float().cpu().numpy()),
    )


def plot_rates(rows: Sequence[Throughput], title: str, *, color: str, log_scale: bool = False) -> tuple[Any, Any]:
    """A bar per run, sentences per second; the figure and its axes, for additions and `save_figure`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.barh([row.label for row in rows], [row.rate for row in rows], color=color)
    ax.invert_yaxis()
    if log_scale:
        ax.set_xscale("log")
    ax.set_xlabel("sentences per second" + (" (log scale)" if log_scale else ""))
    ax.set_title(title)
    return fig, ax


def throughput_tables(
    rows: Sequence[Throughput], ratios: dict[str, float], *, ms_digits: int, ratio_digits: int
) -> list[str]:
    """The report's two tables: each run's rate and batch latencies, then the ratios between runs."""
    return [
        "| run | sentences/s | p50 batch ms | p99 batch ms |",
        "|---|---:|---:|---:|",
        *(f"| {r.label} | {r.rate:,.0f} | {r.p50_ms:.{ms_digits}f} | {r.p99_ms:.{ms_digits}f} |" for r in rows),
        "",
        "| ratio | value |",
        "|---|---:|",
        *(f"| {name} | {value:.{ratio_digits}f} |" for name, value in ratios.items()),
    ]


def clinc_texts(path: Path, limit: int) -> list[str]:
    """Test-split texts (in-scope and out-of-scope), shuffled with a fixed seed."""
    data = json.loads(path.read_text(encoding="utf-8"))
    texts = [text for key in ("test", "oos_test") for text, _ in data[key]]
    order = np.random.default_rng(0).permutation(len(texts))
    return [texts[i] for i in order[:limit]]


def few_per_label(examples: Sequence[Example], per_label: int) -> list[Example]:
    """The first `per_label` examples of each label: enough for a head whose speed, not accuracy, is measured."""
    taken: Counter[str] = Counter()
    chosen = []
    for example in examples:
        if taken[example.label] < per_label:
            taken[example.label] += 1
            chosen.append(example)
    return chosen
