"""`python -m aios.bench.accelerator`: the classifier's speed on a GPU, batched vs one sentence at a time.

Runs where only torch is installed (no Kafka, registry or PostgreSQL), so it can run on a
machine lent for a GPU measurement: the head is trained for a few seconds on CLINC150 (its
accuracy is not measured; the forward pass is the same whatever the head learned), the encoder
then runs in fp16 as the classify worker runs it on CUDA. Rows: the encoder alone, and the
encoder plus the out-of-scope decision (which runs on the CPU), at batch 1, 64 and 256.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import typer
from rich.console import Console

from aios.bench.model_speed import (
    Batch,
    Throughput,
    clinc_texts,
    few_per_label,
    padded_batches,
    plot_rates,
    raw_model,
    throughput_tables,
    timed,
)
from aios.bench.report import save_figure, stamp, write_section
from aios.inference.encoder import SentenceEncoder, resolve_device
from aios.inference.training import RecipeSettings, load_clinc150, train
from aios.paths import project_root

# sentence-transformers' published figure for all-MiniLM-L6-v2 on a V100, for scale.
PUBLISHED_V100 = 14_200


def encoder_only(encoder: SentenceEncoder, texts: list[str], batch_size: int) -> Throughput:
    """The forward pass alone on padded tensors, synchronised per batch so the times are the GPU's."""

    def step(batch: Batch) -> None:
        encoder(*batch)
        if encoder.device.type == "cuda":
            torch.cuda.synchronize()

    return timed(f"encoder, batch {batch_size}", len(texts), padded_batches(encoder, texts, batch_size), step)


def main(
    device: str = typer.Option("cuda", help="Device to measure (cuda, cuda:N, cpu)."),
    texts: int = typer.Option(5500, help="CLINC150 test texts per batched run."),
    single_texts: int = typer.Option(500, help="Texts for the one-at-a-time run."),
    encoder_dir: Path | None = typer.Option(None, help="Encoder folder (default: the bundled all-MiniLM-L6-v2)."),
) -> None:
    console = Console()
    data = project_root() / "data" / "clinc150" / "data_full.json"
    resolved = resolve_device(device)
    with console.status("training a head to serve (frozen encoder)"):
        splits = load_clinc150(data)
        result = train(
            few_per_label(splits.train, 20),
            None,
            RecipeSettings(finetune=False, frozen_epochs=5, device=str(resolved)),
            encoder=SentenceEncoder.load(encoder_dir),
        )
    model = result.model
    model.encoder.to_device(resolved)
    sample = clinc_texts(data, texts)
    rows: list[Throughput] = []
    with console.status(f"measuring on {resolved}"):
        for batch_size in (256, 64):  # warm-up: every padded shape's kernels and the allocator's pools
            encoder_only(model.encoder, sample, batch_size)
        for batch_size in (256, 64):
            rows.append(encoder_only(model.encoder, sample, batch_size))
            rows.append(raw_model(model, sample, batch_size))
        rows.append(encoder_only(model.encoder, sample[:single_texts], 1))
        rows.append(raw_model(model, sample[:single_texts], 1))
    rate = {row.label: row.rate for row in rows}
    ratios = {
        "encoder batch 64 / batch 1": rate["encoder, batch 64"] / rate["encoder, batch 1"],
        "encoder batch 256 / batch 1": rate["encoder, batch 256"] / rate["encoder, batch 1"],
        "raw model batch 64 / batch 1": rate["raw model, batch 64"] / rate["raw model, batch 1"],
        "encoder batch 256 / published V100 figure": rate["encoder, batch 256"] / PUBLISHED_V100,
    }
    gpu = torch.cuda.get_device_name(resolved) if resolved.type == "cuda" else "cpu"
    image = project_root() / "docs" / "bench" / "classify-gpu.png"
    _plot(rows, gpu, image)
    body = "\n".join(
        [
            "## Classify on a GPU: batched vs one sentence at a time",
            "",
            stamp("python -m aios.bench.accelerator") + f" · accelerator: {gpu}",
            "",
            f"all-MiniLM-L6-v2 in fp16 on `{resolved}`, {len(sample)} CLINC150 test texts (length-sorted batches, "
            "dynamic padding). *Encoder* is the forward pass on tensors already padded in memory; *raw model* adds the "
            "out-of-scope decision (softmax, Mahalanobis and neighbour scores, run on the CPU), as the worker runs it. "
            f"Published anchor: about {PUBLISHED_V100:,} sentences/s on a V100 (sentence-transformers). The worker "
            "through Kafka is measured on CPU only (`make bench`): the lent GPU machine runs no broker.",
            "",
            *throughput_tables(rows, ratios, ms_digits=2, ratio_digits=1),
            "",
            "![classify on a GPU](bench/classify-gpu.png)",
        ]
    )
    console.print(f"wrote {write_section('classify-gpu', body)} and {image}")
    console.print(body)


def _plot(rows: list[Throughput], gpu: str, path: Path) -> None:
    fig, ax = plot_rates(rows, f"classify on {gpu}, fp16", color="#55a868", log_scale=True)
    ax.axvline(PUBLISHED_V100, color="#c44e52", linestyle="--", label="published V100 figure")
    ax.legend(loc="lower right")
    save_figure(fig, path, dpi=120)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    typer.run(main)
