"""Plots as SVG text for reports and docs (matplotlib, no display): text stays text, so pages can be searched."""

from __future__ import annotations

import io
from types import ModuleType
from typing import Any


def pyplot() -> ModuleType:
    """matplotlib's pyplot on the file-only backend (imported late: most commands draw nothing)."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"
    from matplotlib import pyplot as plt

    return plt


def svg_of(figure: Any) -> str:
    """The figure as an `<svg>` element (no XML prologue, ready to inline in HTML), then closed."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    pyplot().close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]
