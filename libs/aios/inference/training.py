"""The trainer: labelled texts in, a calibrated classifier with an out-of-scope operating point out.

Everything chosen after the weights (temperature, score statistics, threshold) is fitted on the
validation split only, so test metrics stay honest. The default recipe and why it won are in
`docs/model-recipe.md`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aios.drift.distribution import Reference
from aios.inference import decision
from aios.inference.classifier import TextClassifier
from aios.inference.encoder import SentenceEncoder, resolve_device
from aios.inference.errors import TrainingDataError


class RecipeSettings(BaseSettings):
    """Training recipe, read from `AIOS_MODEL_*`; the defaults are the measured best for a 2-core CPU."""

    model_config = SettingsConfigDict(env_prefix="AIOS_MODEL_", extra="ignore", frozen=True)

    epochs: float = Field(default=3.0, gt=0, description="Passes over the training data (fractions allowed).")
    finetune: bool = Field(
        default=True, description="Fine-tune the encoder; False trains the head on cached embeddings."
    )
    learning_rate: float = Field(default=1e-4, gt=0, description="AdamW learning rate of the encoder layers.")
    head_learning_rate: float = Field(default=5e-3, gt=0, description="AdamW learning rate of the head.")
    frozen_epochs: float = Field(default=30.0, gt=0, description="Head-only epochs when the encoder is frozen.")
    train_batch_size: int = Field(default=32, ge=1, description="Examples per optimisation step.")
    label_smoothing: float = Field(default=0.0, ge=0, lt=1, description="Cross-entropy label smoothing.")
    scale: float = Field(default=20.0, gt=0, description="Cosine head logit scale.")
    margin: float = Field(
        default=0.2, ge=0, lt=1, description="Cosine margin the true class must win by (fine-tuning only)."
    )
    contrastive_weight: float = Field(
        default=0.5, ge=0, description="Supervised contrastive loss weight next to cross-entropy (fine-tuning only)."
    )
    contrastive_temperature: float = Field(default=0.1, gt=0, description="Supervised contrastive temperature.")
    per_class: int = Field(
        default=4, ge=1, description="Rows of one label kept together in a batch, so the contrastive loss has pairs."
    )
    review_budget: float = Field(
        default=0.0075,
        ge=0,
        lt=1,
        description="Share of the correctly classified in-scope validation rows the out-of-scope decision may "
        "reject (by the `oos` class or the threshold): how much good traffic may go to review needlessly, traded "
        "for catching out-of-scope inputs.",
    )
    val_fraction: float = Field(default=0.15, gt=0, lt=1, description="Stratified validation share when none is given.")
    oos_label: str = Field(default="oos", description="Label that marks out-of-scope training/validation examples.")
    seed: int = Field(default=0, description="Seed for the split, initialisation and batch order.")
    threads: int = Field(default=2, ge=1, description="torch CPU threads.")
    device: str = Field(default="auto", description="Where to train: `cpu`, `cuda`, or `auto` (CUDA when present).")


@dataclass(frozen=True)
class Example:
    text: str
    label: str


@dataclass
class TrainResult:
    model: TextClassifier
    metrics: dict[str, Any]
    train_seconds: float
    data_sha256: str


def load_examples(path: Path, text_col: str = "text", label_col: str | None = "label") -> list[Example]:
    """Rows of a CSV (header row) or JSONL file; `label_col=None` reads texts only (label "")."""
    try:
        if path.suffix.lower() in {".jsonl", ".ndjson"}:
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        elif path.suffix.lower() == ".csv":
            with path.open(newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
        else:
            raise TrainingDataError(f"{path}: unsupported file type (use .csv or .jsonl)")
    except (OSError, ValueError) as exc:
        raise TrainingDataError(f"cannot read {path}: {exc}") from exc
    examples = []
    for number, row in enumerate(rows, start=1):
        if text_col not in row or (label_col is not None and label_col not in row):
            raise TrainingDataError(f"{path} row {number}: missing column {text_col!r} or {label_col!r}")
        label = "" if label_col is None else str(row[label_col])
        examples.append(Example(str(row[text_col]), label))
    return examples


def data_sha256(examples: Sequence[Example]) -> str:
    """Digest of the exact training data, stored with each model version for lineage."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(json.dumps([example.text, example.label]).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def stratified_split(labels: Sequence[str], fraction: float, seed: int = 0) -> tuple[list[int], list[int]]:
    """(train positions, validation positions): every label with 2+ examples gives at least one to validation."""
    by_label: dict[str, list[int]] = defaultdict(list)
    for position, label in enumerate(labels):
        by_label[label].append(position)
    rng = random.Random(seed)
    train, val = [], []
    for label in sorted(by_label):
        positions = by_label[label][:]
        rng.shuffle(positions)
        n_val = min(len(positions) - 1, max(1, round(len(positions) * fraction))) if len(positions) > 1 else 0
        val += positions[:n_val]
        train += positions[n_val:]
    return sorted(train), sorted(val)


def _bucketed_batches(lengths: Sequence[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Random batches of similar length: shuffle, sort within chunks of 50 batches, shuffle the batches."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    batches = []
    for start in range(0, len(order), batch_size * 50):
        chunk = sorted(order[start : start + batch_size * 50], key=lambda i: lengths[i])
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def grouped_batches(
    targets: Sequence[int], lengths: Sequence[int], per_class: int, batch_size: int, rng: random.Random
) -> list[list[int]]:
    """Batches of similar length made of groups of up to `per_class` rows that share a label.

    The supervised contrastive loss needs rows of one label together in a batch, which random
    batches over a hundred labels rarely hold. Rows are shuffled within their label and grouped
    with rows of about the same length (so the groups change every epoch and padding stays short);
    the groups are then batched like single rows.
    """
    by_label: dict[int, list[int]] = defaultdict(list)
    for position, label in enumerate(targets):
        by_label[label].append(position)
    groups = []
    for label in sorted(by_label):
        members = by_label[label]
        rng.shuffle(members)
        members.sort(key=lambda i: lengths[i] // 4)
        groups += [members[i : i + per_class] for i in range(0, len(members), per_class)]
    group_lengths = [max(lengths[i] for i in group) for group in groups]
    group_batches = _bucketed_batches(group_lengths, max(1, batch_size // per_class), rng)
    return [[i for g in batch for i in groups[g]] for batch in group_batches]


def supervised_contrastive_loss(
    embeddings: torch.Tensor, targets: torch.Tensor, temperature: float, ignore: int | None = None
) -> torch.Tensor:
    """Supervised contrastive loss (Khosla et al. 2020): rows of one label together, apart from the rest.

    Tighter intents sharpen the distance-based out-of-scope signals. Rows labelled `ignore` (the
    `oos` class, which is no cluster) serve only as negatives. Zero when no row has a partner.
    """
    z = F.normalize(embeddings.float(), dim=-1)
    eye = torch.eye(len(z), dtype=torch.bool, device=z.device)
    similarity = (z @ z.T / temperature).masked_fill(eye, float("-inf"))
    positives = (targets[:, None] == targets[None, :]) & ~eye
    if ignore is not None:
        positives &= (targets != ignore)[:, None]
    anchors = positives.any(dim=1)
    if not anchors.any():
        return z.new_zeros(())
    log_prob = similarity - torch.logsumexp(similarity, dim=1, keepdim=True)
    per_anchor = log_prob.masked_fill(~positives, 0.0).sum(dim=1)[anchors] / positives.sum(dim=1)[anchors]
    return -per_anchor.mean()


def _loss(
    model: TextClassifier, embeddings: torch.Tensor, targets: torch.Tensor, recipe: RecipeSettings, oos: int | None
) -> torch.Tensor:
    """Cross-entropy; when fine-tuning, with a cosine margin (CosFace) and the supervised contrastive term.

    Both pull each intent tighter around its centre, which sharpens the distance-based out-of-scope
    signals; on frozen embeddings there is nothing to reshape and the margin cost validation accuracy.
    """
    logits = model.head(embeddings)
    if not recipe.finetune:
        return F.cross_entropy(logits, targets, label_smoothing=recipe.label_smoothing)
    logits = logits - model.head.scale * recipe.margin * F.one_hot(targets, logits.shape[1])
    loss = F.cross_entropy(logits, targets, label_smoothing=recipe.label_smoothing)
    contrastive = supervised_contrastive_loss(embeddings, targets, recipe.contrastive_temperature, oos)
    return loss + recipe.contrastive_weight * contrastive


def train(
    examples: Sequence[Example],
    val_examples: Sequence[Example] | None = None,
    recipe: RecipeSettings | None = None,
    *,
    encoder: SentenceEncoder | None = None,
    on_step: TrainingProgress | None = None,
) -> TrainResult:
    """Train on `examples`; calibrate and choose the operating point on `val_examples` (or a stratified hold-out).

    `on_step(step, total, loss)` is called after every optimisation step, for a progress bar.
    """
    recipe = recipe or RecipeSettings()
    torch.set_num_threads(recipe.threads)
    torch.manual_seed(recipe.seed)
    started = time.monotonic()
    train_examples, val_examples = _training_split(list(examples), val_examples, recipe)
    labels = sorted({e.label for e in train_examples})
    if len([label for label in labels if label != recipe.oos_label]) < 2:
        raise TrainingDataError("need at least two in-scope labels to train a classifier")
    device = resolve_device(recipe.device)
    encoder = encoder or SentenceEncoder.load()
    encoder.to(device).float()
    model = TextClassifier(
        encoder,
        labels,
        oos_label=recipe.oos_label,
        scale=recipe.scale,
        finetuned=recipe.finetune,
        recipe=recipe.model_dump(),
    )
    index = {label: i for i, label in enumerate(labels)}
    targets = torch.tensor([index[e.label] for e in train_examples], device=device)
    model.head.to(device)
    texts = [e.text for e in train_examples]
    cached = _optimise(model, texts, targets, recipe, index.get(recipe.oos_label), on_step or _no_progress)
    model.eval()
    model.head.cpu()  # the head scores numpy embeddings; the encoder stays on `device` for encoding
    for p in model.parameters():
        p.requires_grad_(False)
    train_embeddings = encoder.encode(texts, batch_size=128) if cached is None else cached.cpu().numpy()
    model.fit_distance(train_embeddings, targets.cpu().numpy())
    calibrate(model, val_examples, recipe.review_budget)
    metrics: dict[str, Any] = {
        "validation": evaluate(model, val_examples),
        "reference": prediction_reference(model, val_examples),
    }
    seconds = time.monotonic() - started
    metrics["train_seconds"] = round(seconds, 1)
    metrics["threshold"] = model.calibration.threshold
    metrics["temperature"] = model.calibration.temperature
    return TrainResult(model, metrics, seconds, data_sha256(list(train_examples) + list(val_examples)))


TrainingProgress = Callable[[int, int, float], None]
"""Called as `(step, total_steps, loss)` after each optimisation step."""


def _no_progress(step: int, total: int, loss: float) -> None:
    """Nobody is watching."""


def _training_split(
    examples: list[Example], val_examples: Sequence[Example] | None, recipe: RecipeSettings
) -> tuple[list[Example], list[Example]]:
    """Training rows and the in-scope validation rows the operating point is chosen on."""
    if val_examples is None:
        train_pos, val_pos = stratified_split([e.label for e in examples], recipe.val_fraction, recipe.seed)
        val_examples = [examples[i] for i in val_pos]
        train_examples = [examples[i] for i in train_pos]
    else:
        train_examples = examples
    # The operating point is chosen on in-scope rows alone, so out-of-scope rows teach the `oos` class instead.
    train_examples = train_examples + [e for e in val_examples if e.label == recipe.oos_label]
    return train_examples, [e for e in val_examples if e.label != recipe.oos_label]


def _optimise(
    model: TextClassifier,
    texts: list[str],
    targets: torch.Tensor,
    recipe: RecipeSettings,
    oos_index: int | None,
    on_step: TrainingProgress,
) -> torch.Tensor | None:
    """Run the optimisation steps; the cached embeddings when the encoder was frozen (None when fine-tuned)."""
    encoder = model.encoder
    rng = random.Random(recipe.seed)
    encoder.embeddings.word_embeddings.weight.requires_grad_(False)  # 12M rows of Adam state for little gain
    params: list[dict[str, Any]] = [{"params": [model.head.weight], "lr": recipe.head_learning_rate}]
    cached: torch.Tensor | None = None
    if recipe.finetune:
        ids = encoder.tokenize(texts)
        lengths = [len(row) for row in ids]
        epochs = recipe.epochs
        params.append({"params": [p for p in encoder.parameters() if p.requires_grad], "lr": recipe.learning_rate})
    else:
        cached = torch.from_numpy(encoder.encode(texts, batch_size=128)).to(targets.device)
        lengths = [1] * len(texts)
        epochs = recipe.frozen_epochs
    optimizer = torch.optim.AdamW(params, weight_decay=0.01)
    total = max(1, int(math.ceil(len(texts) / recipe.train_batch_size) * epochs))
    warmup = max(1, total // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / warmup if s < warmup else max(0.0, (total - s) / max(1, total - warmup))
    )
    model.train()
    step = 0
    while step < total:
        for batch in grouped_batches(targets.tolist(), lengths, recipe.per_class, recipe.train_batch_size, rng):
            if step >= total:
                break
            embeddings = encoder(*encoder.pad([ids[i] for i in batch])) if cached is None else cached[batch]
            loss = _loss(model, embeddings, targets[batch], recipe, oos_index)
            loss.backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            on_step(step, total, loss.item())
    return cached


def calibrate(model: TextClassifier, val_examples: Sequence[Example], review_budget: float) -> None:
    """Temperature, score statistics and threshold from validation data only."""
    known = {label: i for i, label in enumerate(model.labels)}
    texts = [e.text for e in val_examples]
    embeddings = model.encoder.encode(texts, batch_size=128)
    is_oos = np.array([e.label == model.oos_label for e in val_examples], dtype=bool)
    targets = np.array([known.get(e.label, -1) for e in val_examples])
    logits = model.logits(embeddings)
    usable = targets >= 0
    model.calibration.temperature = decision.fit_temperature(logits[usable], targets[usable])
    parts = model.scores(embeddings)
    in_scope = ~is_oos
    model.calibration.stats = decision.fit_score_stats(parts["raw"][in_scope] if in_scope.any() else parts["raw"])
    score = decision.in_scope_score(parts["raw"], model.calibration.stats)
    correct = parts["best_in_scope"] == targets
    model.calibration.threshold = decision.choose_threshold(score, correct, parts["predicted_oos"], review_budget)


def prediction_reference(model: TextClassifier, examples: Sequence[Example]) -> dict[str, Any]:
    """What the model predicts on held-out data (label shares, confidence histogram): its drift baseline."""
    predictions = model.predict([e.text for e in examples])
    return Reference.from_predictions([p.label for p in predictions], [p.confidence for p in predictions]).to_json()


def evaluate(model: TextClassifier, examples: Sequence[Example]) -> dict[str, Any]:
    """Accuracy and macro-F1 over all labels (oos as a class); in-scope accuracy and oos recall when oos exists."""
    if not examples:
        return {"n": 0}
    embeddings = model.encoder.encode([e.text for e in examples], batch_size=128)
    best, oos, _ = model.decide(embeddings)
    predicted = [model.oos_label if o else model.labels[b] for b, o in zip(best, oos, strict=True)]
    gold = [e.label for e in examples]
    result: dict[str, Any] = {
        "n": len(examples),
        "accuracy": round(float(np.mean([p == g for p, g in zip(predicted, gold, strict=True)])), 4),
        "macro_f1": round(macro_f1(gold, predicted), 4),
    }
    is_oos = np.array([g == model.oos_label for g in gold])
    if is_oos.any():
        correct = np.array([p == g for p, g in zip(predicted, gold, strict=True)])
        accuracy, recall = decision.operating_point(correct[~is_oos], oos[~is_oos], oos[is_oos])
        result.update({"in_scope_accuracy": round(accuracy, 4), "oos_recall": round(recall, 4)})
    return result


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Unweighted mean F1 over the labels present in `gold`."""
    scores = []
    for label in sorted(set(gold)):
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p != label)
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


@dataclass
class ClincSplits:
    """CLINC150 as the default model uses it: train+oos_train to learn, val+oos_val to calibrate."""

    train: list[Example] = field(default_factory=list)
    val: list[Example] = field(default_factory=list)
    test: list[Example] = field(default_factory=list)


def load_clinc150(path: Path) -> ClincSplits:
    data = json.loads(path.read_text(encoding="utf-8"))

    def rows(*keys: str) -> list[Example]:
        return [Example(text, label) for key in keys for text, label in data[key]]

    return ClincSplits(rows("train", "oos_train"), rows("val", "oos_val"), rows("test", "oos_test"))
