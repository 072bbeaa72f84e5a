"""Speed of the model alone: the forward pass and the decision on tensors already in memory.

Kept free of Kafka, so it also runs where only torch is installed (a lent GPU machine).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from aios.bench.load import percentile
from aios.inference.classifier import TextClassifier
from aios.inference.encoder import length_sorted_batches
from aios.inference.training import Example


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


@torch.inference_mode()
def raw_model(model: TextClassifier, texts: Sequence[str], batch_size: int) -> Throughput:
    """Forward pass and decision only, on tensors tokenized and padded before the clock starts."""
    encoder = model.encoder
    batches = [
        encoder.pad(encoder.tokenize([texts[i] for i in positions]))
        for positions in length_sorted_batches([len(text) for text in texts], batch_size)
    ]
    timings = []
    started = time.perf_counter()
    for input_ids, mask in batches:
        batch_started = time.perf_counter()
        model.decide(encoder(input_ids, mask).float().cpu().numpy())
        timings.append((time.perf_counter() - batch_started) * 1000)
    return Throughput(f"raw model, batch {batch_size}", len(texts), time.perf_counter() - started, timings)


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
