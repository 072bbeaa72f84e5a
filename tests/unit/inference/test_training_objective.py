"""The fine-tuning objective: label-grouped batches and the supervised contrastive loss."""

from __future__ import annotations

import random
from collections import Counter

import pytest
import torch

from aios.inference.training import grouped_batches, supervised_contrastive_loss


def test_grouped_batches_cover_every_row_once_in_same_label_groups() -> None:
    targets = [i % 5 for i in range(103)]
    lengths = [random.Random(i).randint(3, 30) for i in range(103)]
    batches = grouped_batches(targets, lengths, per_class=4, batch_size=16, rng=random.Random(0))
    assert sorted(i for batch in batches for i in batch) == list(range(103))
    assert all(len(batch) <= 16 for batch in batches)
    # Groups of one label come in runs of up to 4, so almost every row has a partner in its batch.
    with_partner = sum(1 for batch in batches for i in batch if Counter(targets[j] for j in batch)[targets[i]] > 1)
    assert with_partner >= 95


def test_grouped_batches_change_with_the_rng_and_degrade_to_plain_batches() -> None:
    targets = [i % 3 for i in range(60)]
    lengths = [10] * 60
    first = grouped_batches(targets, lengths, 4, 8, random.Random(1))
    assert first != grouped_batches(targets, lengths, 4, 8, random.Random(2))
    single = grouped_batches(targets, lengths, 1, 8, random.Random(1))
    assert sorted(len(batch) for batch in single) == [4] + [8] * 7


def test_contrastive_loss_prefers_tight_classes() -> None:
    targets = torch.tensor([0, 0, 1, 1])
    tight = torch.tensor([[1.0, 0.0], [0.99, 0.1], [0.0, 1.0], [0.1, 0.99]])
    mixed = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.99, 0.1], [0.1, 0.99]])
    assert supervised_contrastive_loss(tight, targets, 0.1) < supervised_contrastive_loss(mixed, targets, 0.1)


def test_contrastive_loss_ignores_the_oos_class_and_rows_without_partners() -> None:
    embeddings = torch.randn(4, 8, requires_grad=True)
    assert supervised_contrastive_loss(embeddings, torch.tensor([0, 1, 2, 3]), 0.1).item() == 0.0
    only_oos_pairs = torch.tensor([5, 5, 1, 2])
    assert supervised_contrastive_loss(embeddings, only_oos_pairs, 0.1, ignore=5).item() == 0.0
    loss = supervised_contrastive_loss(embeddings, torch.tensor([0, 0, 5, 5]), 0.1, ignore=5)
    loss.backward()
    assert loss.item() > 0 and embeddings.grad is not None and torch.isfinite(embeddings.grad).all()
    assert loss.item() == pytest.approx(
        supervised_contrastive_loss(embeddings.detach(), torch.tensor([0, 0, 5, 5]), 0.1, ignore=5).item()
    )
