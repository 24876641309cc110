"""Emergence of the belief geometry over checkpoints: a grid of panels and an animated GIF."""

import os
from pathlib import Path

from matplotlib.animation import PillowWriter

from analysis.figures.canvas import new_figure
from analysis.figures.geometry import PANEL_INCHES, BeliefView, draw_panel, plot_panels
from analysis.figures.labels import format_r2


def frame_title(tokens: int, r2: float, label: str) -> str:
    return f"{label} after {tokens:,} tokens\nR² {format_r2(r2)}"


def plot_emergence_grid(view: BeliefView, truth_NxS, frames: list, path, title: str = ""):
    """Ground truth, then the regressed beliefs at each checkpoint. `frames`: `[(panel title, yhat_NxS)]`."""
    return plot_panels(view, [("ground truth", truth_NxS)] + list(frames), path, title=title)


def save_emergence_gif(
    view: BeliefView, truth_NxS, frames: list, path, title: str = "", fps: float = 2.0, dpi: int = 100
) -> Path:
    """An animation: ground truth on the left, one checkpoint's regressed beliefs per frame on the right.

    Written to a temporary file and renamed, like every other output.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix or '.gif'}")
    three_d = {"projection": "3d"} if view.projection.dims == 3 else {}
    fig = new_figure(2 * PANEL_INCHES, PANEL_INCHES + 0.4)
    truth_ax = fig.add_subplot(1, 2, 1, **three_d)
    draw_panel(truth_ax, view, truth_NxS, "ground truth")
    if title:
        fig.suptitle(title, fontsize=11)
    writer = PillowWriter(fps=fps)
    try:
        with writer.saving(fig, str(tmp), dpi):
            for panel_title, yhat_NxS in frames:
                ax = fig.add_subplot(1, 2, 2, **three_d)
                draw_panel(ax, view, yhat_NxS, panel_title)
                writer.grab_frame()
                ax.remove()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
