"""A classifier artifact round-trips through save/load with its out-of-scope state; old formats are refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from aios.inference.classifier import META_FILE, TextClassifier
from aios.inference.encoder import SentenceEncoder
from aios.inference.errors import ArtifactError
from aios.inference.training import Example, calibrate

TRAIN = [
    Example("what is my checking balance", "balance"),
    Example("how much money do i have", "balance"),
    Example("set an alarm for six", "alarm"),
    Example("wake me up at seven", "alarm"),
    Example("who won the football game", "oos"),
    Example("how tall is mount everest", "oos"),
]
VAL = [Example("balance of my savings", "balance"), Example("alarm at noon", "alarm"), Example("sing a song", "oos")]


def test_save_load_keeps_predictions_and_refuses_old_formats(tmp_path: Path) -> None:
    encoder = SentenceEncoder.load()
    labels = ["alarm", "balance", "oos"]
    model = TextClassifier(encoder, labels, finetuned=False)
    embeddings = encoder.encode([e.text for e in TRAIN])
    targets = np.array([labels.index(e.label) for e in TRAIN])
    model.head.weight.data.copy_(torch.from_numpy(np.stack([embeddings[targets == i].mean(axis=0) for i in range(3)])))
    model.fit_distance(embeddings, targets)
    assert (len(model.neighbours), len(model.oos_neighbours)) == (4, 2)
    calibrate(model, VAL, review_budget=0.01)
    assert len(model.calibration.stats.means) == 4  # best logit, distance, oos-logit and neighbour contrasts

    texts = ["what's my balance", "alarm for 5 am", "what is the capital of peru"]
    before = model.predict(texts)
    model.save(tmp_path)
    loaded = TextClassifier.load(tmp_path, device="cpu")
    after = loaded.predict(texts)
    assert [(p.label, p.oos) for p in after] == [(p.label, p.oos) for p in before]
    assert [p.confidence for p in after] == pytest.approx([p.confidence for p in before], abs=1e-3)

    meta = json.loads((tmp_path / META_FILE).read_text(encoding="utf-8"))
    del meta["format"]
    (tmp_path / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ArtifactError, match="retrain"):
        TextClassifier.load(tmp_path, device="cpu")
