"""Figures without pyplot: an Agg-backed `Figure` (no display, no global backend switch) and an atomic PNG save."""

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analysis.atomic import atomic_file


def new_figure(width: float, height: float) -> Figure:
    """A figure drawn by Agg whatever backend the caller's session uses."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path, dpi: int = 150) -> Path:
    """Write `fig` to `path` (format from the suffix, PNG by default) via a temporary file and a rename."""
    path = Path(path)
    with atomic_file(path) as handle:
        fig.savefig(handle, format=path.suffix.lstrip(".").lower() or "png", dpi=dpi)
    return path
