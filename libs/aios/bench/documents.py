"""Documents: pages per second through the extractor library, born-digital and scanned, and OCR's share.

No stack: the synthetic documents are generated first (not timed), then each is extracted in one process and
in one process per core. Runnable alone: `python -m aios.bench.documents`.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import typer
from rich.console import Console

from aios.bench.report import stamp, write_section
from aios.documents.extraction import extract_document
from aios.documents.settings import ExtractionSettings
from aios.documents.synthetic import HELD_OUT_LAYOUTS, Generated, dataset
from aios.stats import percentile


@dataclass
class Run:
    label: str
    workers: int
    pages: int = 0
    seconds: float = 0.0
    document_ms: list[float] = field(default_factory=list)
    ocr_ms: float = 0.0
    cpu_seconds: float = 0.0
    """CPU time of this process and its children (the worker processes, Tesseract) during the run."""

    @property
    def pages_per_cpu_s(self) -> float:
        """Pages per CPU-second: what the machine would do per core if nothing else ran on it."""
        return self.pages / self.cpu_seconds if self.cpu_seconds else 0.0

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    @property
    def ocr_share(self) -> float:
        busy = sum(self.document_ms)
        return self.ocr_ms / busy if busy else 0.0


def _extract_one(job: tuple[bytes, str, str]) -> tuple[int, float, float]:
    data, media_type, engine = job
    started = time.perf_counter()
    result = extract_document(
        data,
        media_type=media_type,
        declared_type="auto",
        settings=ExtractionSettings.model_validate({"ocr_engine": engine}),
    )
    return result.page_count, (time.perf_counter() - started) * 1000, result.timings_ms.get("ocr", 0.0)


def _cpu_seconds() -> float:
    """User and system time of this process and of its finished children (workers, Tesseract runs)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(label: str, documents: Sequence[Generated], workers: int, engine: str = "tesseract") -> Run:
    run = Run(label, workers)
    jobs = [(d.data, d.media_type, engine) for d in documents]
    _extract_one(jobs[0])  # warm-up: imports, the OCR engine's first load
    cpu_started = _cpu_seconds()
    started = time.perf_counter()
    if workers == 1:
        outcomes = [_extract_one(job) for job in jobs]
    else:
        with ProcessPoolExecutor(workers) as pool:
            outcomes = list(pool.map(_extract_one, jobs))
    run.seconds = time.perf_counter() - started
    run.cpu_seconds = _cpu_seconds() - cpu_started
    for pages, ms, ocr in outcomes:
        run.pages += pages
        run.document_ms.append(ms)
        run.ocr_ms += ocr
    return run


def markdown(runs: Sequence[Run], header: str) -> str:
    rows = [
        f"| {r.label} | {r.workers} | {len(r.document_ms)} | {r.pages} | {r.pages_per_s:.1f} | "
        f"{percentile(r.document_ms, 50):.0f} | {percentile(r.document_ms, 99):.0f} | {r.ocr_share:.0%} | "
        f"{r.pages_per_cpu_s:.1f} |"
        for r in runs
    ]
    load = os.getloadavg()
    return "\n".join(
        [
            "## Documents: pages per second through the extractor",
            "",
            header,
            "",
            "`extract_document` on synthetic invoices and claim forms of the held-out layouts (1 to 3 pages;",
            "scans at 150-300 dpi, turned up to 2°, noisy, JPEG): reading, OCR, deskew, fields, line items, tick",
            "boxes and checks, in-process, without Kafka. One process, then one process per core. Goals on two",
            "cores: 20 pages/s born-digital, 2 pages/s scanned.",
            "",
            "| kind | processes | documents | pages | pages/s | p50 ms/doc | p99 ms/doc | OCR share | pages/CPU-s |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"Load average during the run: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) on"
            f" {os.cpu_count()} cores; other work on the machine shares these cores, so read the ratios and the last",
            "column (pages per CPU-second of this run's processes: roughly what one idle core would do).",
        ]
    )


def documents_section(console: Console, born_digital: int = 60, scanned: int = 12, engines: str = "tesseract") -> None:
    layouts = sorted(HELD_OUT_LAYOUTS)
    with console.status("generating documents"):
        digital = dataset(layouts, max(born_digital // len(layouts), 1), seed=3)
        scans = dataset(layouts, 1, scanned_share=1.0, seed=4)[:scanned]
    workers = os.cpu_count() or 1
    runs = []
    for count in sorted({1, workers}):
        with console.status(f"born-digital, {count} processes"):
            runs.append(measure("born-digital", digital, count))
    for engine in engines.split(","):
        for count in sorted({1, workers}):
            with console.status(f"scanned ({engine}), {count} processes"):
                runs.append(measure(f"scanned, {engine}", scans, count, engine))
    report = write_section("documents", markdown(runs, stamp("python -m aios.bench.documents")))
    console.print(f"wrote {report}")


def main(
    born_digital: int = typer.Option(60, help="Born-digital documents."),
    scanned: int = typer.Option(12, help="Scanned documents (at most one per held-out layout)."),
    engines: str = typer.Option("tesseract", help="OCR engines to time on the scans, comma separated."),
) -> None:
    documents_section(Console(), born_digital, scanned, engines)


if __name__ == "__main__":
    typer.run(main)
