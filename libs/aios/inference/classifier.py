"""The text classifier: sentence encoder + cosine head, calibrated, with an out-of-scope decision.

An artifact is a folder with `weights.safetensors` (head, class centroids, the precision matrix
and training embeddings of the out-of-scope score, and the encoder when it was fine-tuned) and
`model.json` (format, labels, temperature, threshold, score statistics and the recipe that produced
it). Artifacts of an older format are refused with `ArtifactError`: retrain them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from aios.inference import decision
from aios.inference.encoder import SentenceEncoder, resolve_device
from aios.inference.errors import ArtifactError

WEIGHTS_FILE = "weights.safetensors"
META_FILE = "model.json"
# 2: out-of-scope score with logit and nearest-neighbour contrasts to the `oos` class.
ARTIFACT_FORMAT = 2


@dataclass(frozen=True)
class Prediction:
    """One input's outcome; `label` is the oos label when `oos` is true, `confidence` the calibrated top probability."""

    label: str
    confidence: float
    top_k: list[tuple[str, float]]
    oos: bool


@dataclass
class Calibration:
    """What the trainer fits on validation data only: temperature, score statistics, threshold."""

    temperature: float = 1.0
    threshold: float = float("-inf")
    stats: decision.ScoreStats = field(default_factory=lambda: decision.ScoreStats((0.0, 0.0), (1.0, 1.0)))


class CosineHead(nn.Module):
    """Scaled cosine similarity to one learned vector per class: bounded logits, which separate oos better."""

    def __init__(self, dim: int, classes: int, scale: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(classes, dim) * 0.02)
        self.scale = scale

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        return self.scale * F.normalize(embeddings.float(), dim=-1) @ F.normalize(self.weight, dim=-1).T


class TextClassifier(nn.Module):
    """Encoder + head + out-of-scope statistics; `predict` is what workers call."""

    def __init__(
        self,
        encoder: SentenceEncoder,
        labels: Sequence[str],
        *,
        oos_label: str = "oos",
        scale: float = 20.0,
        finetuned: bool = False,
        recipe: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.labels = list(labels)
        self.oos_label = oos_label
        self.finetuned = finetuned
        self.recipe = dict(recipe or {})
        self.head = CosineHead(encoder.dim, len(self.labels), scale)
        self.calibration = Calibration()
        in_scope = [i for i, label in enumerate(self.labels) if label != oos_label]
        self.in_scope_index = np.array(in_scope, dtype=np.int64)
        self.oos_index = self.labels.index(oos_label) if oos_label in self.labels else None
        self.centroids = np.zeros((len(in_scope), encoder.dim), dtype=np.float64)
        self.precision = np.eye(encoder.dim, dtype=np.float64)
        self.neighbours = np.zeros((0, encoder.dim), dtype=np.float32)
        self.oos_neighbours = np.zeros((0, encoder.dim), dtype=np.float32)
        self.batch_size = 64

    def fit_distance(self, embeddings: np.ndarray, targets: np.ndarray) -> None:
        """What the out-of-scope score measures against, from training embeddings.

        Class means and a shared, slightly shrunk covariance of the in-scope rows (Mahalanobis
        distance); with an `oos` class also the rows themselves, in-scope and `oos` apart
        (nearest-neighbour contrast).
        """
        if self.oos_index is not None:
            is_oos = targets == self.oos_index
            self.neighbours = embeddings[~is_oos].astype(np.float32)
            self.oos_neighbours = embeddings[is_oos].astype(np.float32)
        emb = embeddings.astype(np.float64)
        centroids, residuals = [], []
        for position in self.in_scope_index:
            members = emb[targets == position]
            mean = members.mean(axis=0) if len(members) else np.zeros(emb.shape[1])
            centroids.append(mean)
            residuals.append(members - mean)
        self.centroids = np.stack(centroids)
        stacked = np.concatenate(residuals)
        cov = stacked.T @ stacked / max(len(stacked), 1)
        cov += 1e-3 * np.trace(cov) / cov.shape[0] * np.eye(cov.shape[0]) + 1e-9 * np.eye(cov.shape[0])
        self.precision = np.linalg.inv(cov)

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.head(torch.from_numpy(embeddings)).numpy()

    def scores(self, embeddings: np.ndarray) -> dict[str, np.ndarray]:
        """Calibrated probabilities and the raw ingredients of the out-of-scope decision."""
        logits = self.logits(embeddings)
        probs = decision.softmax(logits, self.calibration.temperature)
        in_scope_logits = logits[:, self.in_scope_index]
        maha = decision.mahalanobis_min(embeddings.astype(np.float64), self.centroids, self.precision)
        if self.oos_index is None:
            raw = decision.raw_scores(in_scope_logits, maha)
            predicted_oos = np.zeros(len(probs), bool)
        else:
            logit_gap = in_scope_logits.max(axis=1) - logits[:, self.oos_index]
            neighbour_gap = decision.nearest_similarity(embeddings, self.neighbours) - decision.nearest_similarity(
                embeddings, self.oos_neighbours
            )
            raw = decision.raw_scores(in_scope_logits, maha, logit_gap, neighbour_gap)
            predicted_oos = probs.argmax(axis=1) == self.oos_index
        best_in_scope = self.in_scope_index[in_scope_logits.argmax(axis=1)]
        return {"probs": probs, "raw": raw, "predicted_oos": predicted_oos, "best_in_scope": best_in_scope}

    def decide(self, embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(predicted label index among in-scope labels, out-of-scope flags, calibrated probabilities)."""
        parts = self.scores(embeddings)
        score = decision.in_scope_score(parts["raw"], self.calibration.stats)
        oos = decision.decide_oos(score, self.calibration.threshold, parts["predicted_oos"])
        return parts["best_in_scope"], oos, parts["probs"]

    def predict(self, texts: Sequence[str], k: int = 3) -> list[Prediction]:
        """One `Prediction` per text, in input order."""
        embeddings = self.encoder.encode(texts, batch_size=self.batch_size)
        best, oos, probs = self.decide(embeddings)
        tops = decision.top_k(probs, self.labels, k)
        out = []
        for i, top in enumerate(tops):
            if oos[i]:
                confidence = float(probs[i, self.oos_index]) if self.oos_index is not None else 1.0 - probs[i].max()
                out.append(Prediction(self.oos_label, float(max(confidence, 1.0 - probs[i, best[i]])), top, True))
            else:
                out.append(Prediction(self.labels[best[i]], float(probs[i, best[i]]), top, False))
        return out

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {
            "head.weight": self.head.weight.detach().float().cpu().contiguous(),
            "oos.centroids": torch.from_numpy(self.centroids.copy()),
            "oos.precision": torch.from_numpy(self.precision.copy()),
            # Unit-length rows: half precision loses nothing the nearest-neighbour contrast notices.
            "oos.neighbours": torch.from_numpy(self.neighbours).half(),
            "oos.oos_neighbours": torch.from_numpy(self.oos_neighbours).half(),
        }
        if self.finetuned:
            tensors.update(
                {f"encoder.{k}": v.detach().float().cpu().contiguous() for k, v in self.encoder.state_dict().items()}
            )
        save_file(tensors, str(folder / WEIGHTS_FILE))
        calibration = self.calibration
        meta = {
            "format": ARTIFACT_FORMAT,
            "labels": self.labels,
            "oos_label": self.oos_label,
            "scale": self.head.scale,
            "finetuned": self.finetuned,
            "temperature": calibration.temperature,
            "threshold": calibration.threshold,
            "score_stats": {"means": calibration.stats.means, "stds": calibration.stats.stds},
            "recipe": self.recipe,
        }
        (folder / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")

    @classmethod
    def load(
        cls, folder: Path, *, device: str = "auto", encoder_dir: Path | None = None, max_length: int = 128
    ) -> TextClassifier:
        try:
            meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
            tensors = load_file(str(folder / WEIGHTS_FILE))
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"cannot read model artifact in {folder}: {exc}") from exc
        if meta.get("format") != ARTIFACT_FORMAT:
            raise ArtifactError(
                f"model artifact in {folder} has format {meta.get('format', 1)}, this code reads {ARTIFACT_FORMAT}:"
                " retrain it"
            )
        encoder = SentenceEncoder.load(encoder_dir, max_length=max_length)
        if meta["finetuned"]:
            encoder.load_state_dict({k[len("encoder.") :]: v for k, v in tensors.items() if k.startswith("encoder.")})
        model = cls(
            encoder,
            meta["labels"],
            oos_label=meta["oos_label"],
            scale=meta["scale"],
            finetuned=meta["finetuned"],
            recipe=meta.get("recipe"),
        )
        model.head.weight.data.copy_(tensors["head.weight"])
        model.centroids = tensors["oos.centroids"].double().numpy()
        model.precision = tensors["oos.precision"].double().numpy()
        model.neighbours = tensors["oos.neighbours"].float().numpy()
        model.oos_neighbours = tensors["oos.oos_neighbours"].float().numpy()
        stats = meta["score_stats"]
        model.calibration = Calibration(
            meta["temperature"],
            float(meta["threshold"]),
            decision.ScoreStats(tuple(stats["means"]), tuple(stats["stds"])),
        )
        model.eval()
        model.encoder.to_device(resolve_device(device))
        return model
