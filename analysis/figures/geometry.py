"""Belief-geometry figures: the ground-truth belief cloud beside the beliefs regressed from each site."""

from dataclasses import dataclass

import numpy as np

from analysis.figures.canvas import new_figure, save_figure
from analysis.figures.labels import format_p, format_r2
from analysis.figures.simplex import (
    MAX_CATEGORIES,
    Projection,
    belief_colours,
    belief_projection,
    categorical_colours,
    class_centres,
    simplex_xy,
)
from hmm.display import display_name

PANEL_INCHES = 4.0  # with 3 columns and 10-point titles, legible when a report page shrinks the figure
# the simplex frame (vertices (0, 0), (1, 0), (1/2, 0.866)) with room for its corner labels; regressed
# points beyond these limits are clipped rather than drawn over the labels or the titles
SIMPLEX_LIMITS = np.array([[-0.16, 1.16], [-0.17, 1.0]])
MAX_COLUMNS = 3


@dataclass(frozen=True)
class BeliefView:
    """What every panel of one process shares: the projection, the colour of each prefix, its weight and class."""

    projection: Projection
    colours_Nx3: np.ndarray
    weights_N: np.ndarray
    class_ids_N: np.ndarray | None  # set when the presentation has few distinct beliefs (categorical colours)
    limits_Kx2: np.ndarray  # shared axis limits: every panel is drawn on the ground truth's scale
    corner: str = "state"  # what a simplex corner is: a hidden state, or a mixture's component

    @property
    def categorical(self) -> bool:
        return self.class_ids_N is not None


def belief_view(
    beliefs_NxS, weights_N, *, simplex: bool, class_ids_N=None, dims: int | None = None, corner: str = "state"
) -> BeliefView:
    """Build the shared view. `simplex`: the process is a 3-state HMM (draw the 2-simplex, colour RGB = belief).

    `dims=None` chooses: the simplex when it applies, else 3-D PCA when a third axis carries >= 5% of the
    weighted variance, else 2-D.
    """
    beliefs_NxS = np.asarray(beliefs_NxS, np.float64)
    weights_N = np.asarray(weights_N, np.float64)
    if class_ids_N is not None and len(np.unique(class_ids_N)) > MAX_CATEGORIES:
        class_ids_N = None
    projection = belief_projection(beliefs_NxS, weights_N, simplex=simplex, dims=dims)
    colours = categorical_colours(class_ids_N) if class_ids_N is not None else belief_colours(beliefs_NxS, simplex)
    points = projection(beliefs_NxS)
    low, high = points.min(axis=0), points.max(axis=0)
    pad = 0.08 * np.maximum(high - low, 1e-9)
    limits = SIMPLEX_LIMITS if projection.kind == "simplex" else np.stack([low - pad, high + pad], axis=1)
    return BeliefView(projection, colours, weights_N, class_ids_N, limits, corner)


def point_size(n: int) -> float:
    """Marker area: small enough that a fractal of ~10^5 points stays sharp, large for a few states."""
    return float(np.clip(1e4 / max(n, 1), 0.25, 12.0))


def _draw_simplex_frame(ax, corner: str = "state"):
    corners = simplex_xy(np.eye(3))
    ax.plot(*np.vstack([corners, corners[:1]]).T, color="0.6", lw=0.8, zorder=0)
    for label, (x, y), dy in zip((f"{corner} {i}" for i in range(3)), corners, (-0.06, -0.06, 0.03)):
        ax.text(
            x,
            y + dy,
            label,
            ha="center",
            va="bottom" if dy > 0 else "top",
            fontsize=8,
            color="0.2",
            zorder=5,
            bbox=dict(facecolor="white", alpha=0.85, edgecolor="none", pad=1.0),
        )


RASTER_ABOVE = 20_000  # 2-D panels with more points are drawn as one image (fast, one pixel per point)
RASTER_PIXELS = 420
PIXELS_PER_INCH = 125  # raster resolution: close to one image pixel per output pixel at 150 dpi
SPARSE_PIXELS = 2_000  # fewer occupied pixels than this: draw them as visible dots instead


def _raster(ax, points_Nx2, colours_Nx3, limits_2x2, alpha: float, pixels: int = RASTER_PIXELS):
    """Each point as one pixel: the mean colour of the points in a pixel, opacity `1 - (1 - alpha)^count`."""
    (x0, x1), (y0, y1) = limits_2x2
    nx = pixels
    ny = max(1, int(round(pixels * (y1 - y0) / (x1 - x0))))
    ix = np.floor((points_Nx2[:, 0] - x0) / (x1 - x0) * nx).astype(np.int64)
    iy = np.floor((points_Nx2[:, 1] - y0) / (y1 - y0) * ny).astype(np.int64)
    inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
    flat = iy[inside] * nx + ix[inside]
    count = np.bincount(flat, minlength=nx * ny)
    rgba = np.zeros((nx * ny, 4))
    for c in range(3):
        rgba[:, c] = np.bincount(flat, weights=colours_Nx3[inside, c], minlength=nx * ny) / np.maximum(count, 1)
    rgba[:, 3] = 1.0 - (1.0 - alpha) ** count
    occupied = np.flatnonzero(count)
    if len(occupied) < SPARSE_PIXELS:  # points piled on a few spots (e.g. a token embedding): keep them visible
        cx = (occupied % nx + 0.5) / nx * (x1 - x0) + x0
        cy = (occupied // nx + 0.5) / ny * (y1 - y0) + y0
        ax.scatter(cx, cy, c=rgba[occupied, :3], s=12, linewidths=0, zorder=1)
        return
    ax.imshow(
        rgba.reshape(ny, nx, 4),
        extent=(x0, x1, y0, y1),
        origin="lower",
        interpolation="nearest",
        aspect="auto",
        zorder=1,
    )


def draw_panel(ax, view: BeliefView, y_NxS, title: str, show_centres: bool = True, pixels: int = RASTER_PIXELS):
    """Draw the (true or regressed) beliefs `y_NxS` in the view's projection, coloured by the true belief."""
    points = view.projection(y_NxS)
    alpha = 0.35 if view.categorical else 0.6
    if view.projection.dims == 2 and len(points) > RASTER_ABOVE:
        _raster(ax, points, view.colours_Nx3, view.limits_Kx2, alpha, pixels)
    else:
        order = np.argsort(view.weights_N, kind="stable")  # the most probable prefixes are drawn last, on top
        size = point_size(len(points))
        ax.scatter(*points[order].T, c=view.colours_Nx3[order], s=size, alpha=alpha, linewidths=0, rasterized=True)
    if view.categorical and show_centres:
        ids, centres = class_centres(points, view.class_ids_N, view.weights_N)
        ax.scatter(*centres.T, c=categorical_colours(ids), s=40, edgecolors="black", linewidths=0.6, zorder=3)
    if view.projection.kind == "simplex":
        _draw_simplex_frame(ax, view.corner)
    for axis, (low, high) in zip("xyz", view.limits_Kx2):
        getattr(ax, f"set_{axis}lim")(low, high)
    if view.projection.dims == 2:
        ax.set_aspect("equal")
    else:
        ax.set_box_aspect(None, zoom=0.85)  # room for the third axis label
    if view.projection.kind == "simplex":
        ax.set_axis_off()
    else:
        labels = [f"PC{i + 1} ({100 * f:.0f}%)" for i, f in enumerate(view.projection.explained)]
        for axis, label in zip("xyz", labels):
            getattr(ax, f"set_{axis}label")(label, fontsize=7)
        ax.tick_params(labelsize=6)
    ax.set_title(title, fontsize=10)


def _add_axes(fig, rows, cols, index, dims):
    return fig.add_subplot(rows, cols, index + 1, **({"projection": "3d"} if dims == 3 else {}))


def plot_panels(
    view: BeliefView, panels: list[tuple[str, np.ndarray]], path, title: str = "", panel_inches: float = PANEL_INCHES
):
    """One figure, one panel per `(title, beliefs_NxS)`; returns the saved path."""
    cols = min(MAX_COLUMNS, len(panels))
    rows = -(-len(panels) // cols)
    fig = new_figure(panel_inches * cols, panel_inches * rows + (0.4 if title else 0.0))
    for i, (panel_title, y_NxS) in enumerate(panels):
        draw_panel(
            _add_axes(fig, rows, cols, i, view.projection.dims),
            view,
            y_NxS,
            panel_title,
            pixels=int(PIXELS_PER_INCH * panel_inches),
        )
    if title:
        fig.suptitle(title, fontsize=11)
    return save_figure(fig, path)


def tree_view(tree, dims: int | None = None) -> BeliefView:
    """The view of a mixed-state tree's prefixes (categorical when the presentation is finite)."""
    states = tree.states
    class_ids = states.prefix_state if states.is_finite else None
    return belief_view(tree.beliefs, tree.probs, simplex=_is_simplex(tree.process), class_ids_N=class_ids, dims=dims)


def _is_simplex(process) -> bool:
    return process.num_states == 3 and not process.is_generalized


def plot_ground_truth(tree, path, dims: int | None = None):
    """The Bayes-optimal belief geometry of every prefix of `tree` (no model needed); returns the saved path.

    3-state HMMs: the 2-simplex, coloured RGB = belief. Otherwise: weighted PCA of the beliefs, coloured by
    distinct belief state (with centres of mass) when the presentation is finite, else by principal coordinates.
    """
    view = tree_view(tree, dims)
    states = tree.states
    panel = (
        f"ground-truth beliefs after {tree.num_prefixes:,} prefixes (length 1..{tree.max_len})\n"
        f"{states.num_states:,} distinct beliefs{', finite presentation' if states.is_finite else ''}"
    )
    return plot_panels(view, [(panel, tree.beliefs)], path, title=display_name(tree.process), panel_inches=5.0)


def prefix_view(prefixes, dims: int | None = None) -> BeliefView:
    """The view of a prefix set's true beliefs (categorical when it has few distinct beliefs)."""
    return belief_view(
        prefixes.beliefs,
        prefixes.probs,
        simplex=_is_simplex(prefixes.process),
        class_ids_N=prefixes.class_ids,
        dims=dims,
    )


def _fit_title(result, target: str) -> str:
    r = result.targets[target]
    title = f"{result.name}\nR² {format_r2(r.metrics['r2'])}"
    if r.cv is not None:
        title += f", held-out {format_r2(r.cv['r2'])}"
    if r.null is not None:
        null = r.null.summary()
        title += f"\nshuffle q99 {format_r2(null['q99'])}\n{format_p(null['p_value'], null['num_permutations'])}"
    return title


def plot_site_geometry(view: BeliefView, truth_NxS, groups: dict, path, title: str = "", target: str = "belief"):
    """Ground truth beside the regressed projection of every group (`{name: GroupResult}`), same axes."""
    panels = [("ground truth", truth_NxS)]
    panels += [(_fit_title(r, target), r.targets[target].predicted_NxC) for r in groups.values()]
    return plot_panels(view, panels, path, title=title)
