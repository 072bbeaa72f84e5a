"""CPU milliseconds per event for every process of the pipeline, from the processes' own counters.

A steady stretch of load is bracketed by two samples of each process's CPU time (user + system,
its live children included: PostgreSQL's backends, uvicorn's workers, Kafka's JVM threads). The
difference divided by the events that became final in the stretch is what each part costs per
event, whatever else the machine was doing: a busy neighbour slows a process down but does not
add to its own counters.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from aios.bench.model_speed import clinc_texts, raw_model
from aios.bench.report import save_figure
from aios.classify.settings import ClassifySettings
from aios.db.pool import run_on_database
from aios.demo.setup import receiver_pid_file
from aios.inference.loading import load_version
from aios.inference.model_registry import LocalArtifactStore, ModelRegistry
from aios.inference.settings import ModelSettings
from aios.paths import project_root
from aios.runtime.supervisor import Supervisor
from aios.stack.settings import StackSettings

LOAD_GENERATOR = "load generator (the benchmark's client)"


@dataclass(frozen=True)
class ProcessRoot:
    """A process whose CPU time, with its children's, is one part of the pipeline."""

    part: str
    pid: int


def pipeline_processes(settings: StackSettings | None = None) -> list[ProcessRoot]:
    """Every service `aios up` runs, every stack component, the demo's webhook receiver and this process."""
    logs = (settings or StackSettings()).state_dir / "logs"
    roots = [ProcessRoot(status.name, status.pid) for status in Supervisor().status() if status.pid]
    # Stack components keep their pid files beside their logs; supervisord's children are the services above.
    components = [path for path in sorted(logs.glob("*.pid")) if path.stem != "supervisord"]
    roots += [ProcessRoot(path.stem, pid) for path in components if (pid := _live_pid(path))]
    if receiver := _live_pid(receiver_pid_file()):
        roots.append(ProcessRoot("webhook receiver (the demo's)", receiver))
    return [*roots, ProcessRoot(LOAD_GENERATOR, psutil.Process().pid)]


def _live_pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if psutil.pid_exists(pid) else None


def cpu_seconds(roots: list[ProcessRoot]) -> dict[str, float]:
    """CPU seconds used so far by each part (its processes and their live children), summed by part."""
    used: dict[str, float] = {}
    for root in roots:
        try:
            process = psutil.Process(root.pid)
            family = [process, *process.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for member in family:
            try:
                times = member.cpu_times()
            except psutil.NoSuchProcess:
                continue
            used[root.part] = used.get(root.part, 0.0) + times.user + times.system
    return used


@dataclass(frozen=True)
class CostTable:
    """CPU milliseconds per final event, by part, over one steady stretch of load."""

    events: int
    seconds: float
    per_event_ms: dict[str, float]

    @property
    def total_ms(self) -> float:
        return sum(self.per_event_ms.values())


def cost_table(before: dict[str, float], after: dict[str, float], events: int, seconds: float) -> CostTable:
    """The difference of two samples per event; parts seen in only one sample are left out (restarted)."""
    per_event = {part: (after[part] - before[part]) * 1000 / max(events, 1) for part in sorted(after) if part in before}
    return CostTable(events, seconds, dict(sorted(per_event.items(), key=lambda item: -item[1])))


@dataclass(frozen=True)
class ModelCost:
    """The production model alone, batched, on tensors made before the clock: the floor of the pipeline."""

    rate: float
    """Sentences per second."""
    cpu_ms: float
    """CPU milliseconds per sentence (every thread of the forward pass)."""


def production_model_cost(texts: int = 1000, batch_size: int = 64) -> ModelCost:
    """The classifier `aios up` serves, loaded in this process and timed on CLINC150 test texts."""
    name = ClassifySettings().model_name
    version = run_on_database(lambda pool: ModelRegistry(pool).resolve(name))
    models = ModelSettings()
    model = load_version(LocalArtifactStore(models.artifact_dir), version, models)
    sample = clinc_texts(project_root() / "data" / "clinc150" / "data_full.json", texts)
    started = time.process_time()
    run = raw_model(model, sample, batch_size)
    return ModelCost(run.rate, (time.process_time() - started) * 1000 / len(sample))


def plot(table: CostTable, model: ModelCost, path: Path) -> None:
    """One stacked bar of the pipeline's parts beside the model's own forward pass."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    bottom = 0.0
    colors = plt.get_cmap("tab20")
    for index, (part, ms) in enumerate(table.per_event_ms.items()):
        ax.bar("pipeline, per event", ms, bottom=bottom, label=part, color=colors(index % 20))
        bottom += ms
    ax.bar("model forward pass,\nper sentence", model.cpu_ms, color="#444444", label="model (raw, batched)")
    ax.set_ylabel("CPU ms")
    ax.set_title("Where the CPU goes")
    ax.legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left")
    save_figure(fig, path)


def markdown(table: CostTable, model: ModelCost, image: str) -> list[str]:
    rows = [
        f"| {part} | {ms:.2f} | {ms / table.total_ms:.0%} | {ms / model.cpu_ms:.2f} |"
        for part, ms in table.per_event_ms.items()
    ]
    return [
        f"**Where the CPU goes** ({table.events} events over {table.seconds:.0f} s at the 50 % level; CPU time of "
        "each process and its children from the processes' own counters, `psutil`). The model's own forward pass, "
        f"batched, costs **{model.cpu_ms:.2f} CPU ms per sentence** ({model.rate:.0f} sentences/s in this run).",
        "",
        "| part | CPU ms / event | share | relative to the model's forward pass |",
        "|---|---:|---:|---:|",
        *rows,
        f"| **all parts** | **{table.total_ms:.2f}** | 100% | {table.total_ms / model.cpu_ms:.2f} |",
        "",
        f"![where the CPU goes]({image})",
    ]


def append_history(table: CostTable, model: ModelCost, path: Path, day: str) -> None:
    """One row per run (date, part, ms), so a regression shows against the runs before it."""
    new = not path.exists()
    with path.open("a", encoding="utf-8") as history:
        if new:
            history.write("date,part,cpu_ms_per_event\n")
        for part, ms in {**table.per_event_ms, "model forward pass (raw, batched)": model.cpu_ms}.items():
            history.write(f"{day},{part},{ms:.3f}\n")
