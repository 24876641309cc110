"""Ladder figures: the unexplained share `1 - R^2` (log axis) of the baselines, the prediction-only ceiling,
the controls and the network; and the belief geometry at one prefix length beside all lengths."""

import numpy as np

from analysis.figures.canvas import new_figure, save_figure
from analysis.figures.geometry import _add_axes, _is_simplex, belief_view, draw_panel, prefix_view

FLOOR = 1e-8  # 1 - R^2 below this is drawn at the floor


def _unexplained(r2):
    return None if r2 is None else max(1.0 - r2, FLOOR)


def _hline(ax, r2, label, **style):
    value = _unexplained(r2)
    if value is not None:
        ax.axhline(value, label=f"{label}: R² {r2:.4f}", **style)


def _ladder_panel(ax, section: dict, controls: dict, group: str, weighting: str):
    history = section["token_history"]
    for kind, marker in (("linear", "o"), ("lookup", "s")):
        ks = [b["k"] for b in history[kind]]
        held = [_unexplained(b["cv"]["r2"]["mean"]) for b in history[kind]]
        ax.plot(ks, held, marker=marker, ms=4, label=f"{kind} on last k tokens + position (held out)")
    net = section["network"][group]
    cv = net["cv"]["r2"]
    value = _unexplained(cv["mean"])
    ax.axhline(value, color="black", lw=1.6, label=f"network {group} held out: R² {cv['mean']:.5f}")
    if cv["sd"]:
        low, high = _unexplained(cv["mean"] + cv["sd"]), _unexplained(cv["mean"] - cv["sd"])
        ax.axhspan(low, high, color="black", alpha=0.15, lw=0)
    _hline(ax, net["r2"], "network in sample", color="black", ls=":")
    ceiling = section["prediction_ceiling"]
    _hline(
        ax, ceiling["affine_cv"]["mean"], "affine map of the Bayes prediction (held out)", color="tab:green", ls="--"
    )
    _hline(ax, ceiling["best_function_r2"], "best function of the Bayes prediction", color="tab:green", ls=":")
    if controls and controls.get("weighting") == weighting:
        _hline(ax, controls.get("untrained_cv_r2"), "untrained, held out", color="tab:orange", ls="--")
        null = controls.get("heldout_null")
        if null:
            _hline(ax, null["q99"], "held-out shuffle null q99", color="0.4", ls="-.")
    ax.set_yscale("log")
    ax.set_xlabel("k (tokens of history)")
    ax.set_ylabel("unexplained share 1 − R² (log)")
    ax.set_title(f"{weighting} weighting", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=6, loc="lower left")


def _length_panel(ax, section: dict, group: str, weighting: str):
    history = section["token_history"]
    curves = {f"network {group} (held out)": section["network"][group]["cv"]["r2_by_length"]}
    for kind in ("linear", "lookup"):
        best = section["token_history"][f"best_{kind}"]["k"]
        entry = next(b for b in history[kind] if b["k"] == best)
        curves[f"{kind}, k = {best} (held out)"] = entry["cv"]["r2_by_length"]
    for label, by_length in curves.items():
        lengths = sorted(int(k) for k in by_length)
        values = [_unexplained(by_length.get(k, by_length.get(str(k)))) for k in lengths]
        ax.plot(lengths, [np.nan if v is None else v for v in values], marker="o", ms=4, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("prefix length")
    ax.set_ylabel("1 − R² within the length (log)")
    ax.set_title(f"by prefix length, {weighting} weighting", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=6)


def plot_ladder(ladder: dict, group: str, path, title: str = ""):
    """One row per weighting: `1 - R^2` against k for the baselines, with the network, the prediction-only
    ceiling and the controls as lines (left); `1 - R^2` within each prefix length (right)."""
    weightings = list(ladder["weightings"])
    fig = new_figure(12.0, 4.2 * len(weightings) + 0.4)
    axes = fig.subplots(len(weightings), 2, squeeze=False)
    controls = ladder["controls"].get(group)
    for row, weighting in zip(axes, weightings):
        section = ladder["weightings"][weighting]
        _ladder_panel(row[0], section, controls, group, weighting)
        _length_panel(row[1], section, group, weighting)
    if title:
        fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)


def plot_geometry_at_length(prefixes, groups: dict, path, length: int | None = None, title: str = ""):
    """Ground truth and each group's regressed beliefs (`{name: GroupResult}`): all prefix lengths (left)
    beside the prefixes of one `length` only (right; default the longest)."""
    length = int(prefixes.lengths.max()) if length is None else int(length)
    mask = prefixes.lengths == length
    if not mask.any():
        raise ValueError(
            f"geometry_length={length} is invalid: prefix lengths are "
            f"{int(prefixes.lengths.min())}..{int(prefixes.lengths.max())}"
        )
    every = prefix_view(prefixes)
    ids = None if prefixes.class_ids is None else prefixes.class_ids[mask]
    one = belief_view(
        prefixes.beliefs[mask], prefixes.probs[mask], simplex=_is_simplex(prefixes.process), class_ids_N=ids
    )
    rows = [("ground truth", prefixes.beliefs)] + [(g, r.targets["belief"].predicted_NxC) for g, r in groups.items()]
    fig = new_figure(2 * 3.4, 3.4 * len(rows) + 0.4)
    for i, (name, y_NxS) in enumerate(rows):
        draw_panel(_add_axes(fig, len(rows), 2, 2 * i, every.projection.dims), every, y_NxS, f"{name}: all lengths")
        draw_panel(
            _add_axes(fig, len(rows), 2, 2 * i + 1, one.projection.dims),
            one,
            y_NxS[mask],
            f"{name}: length {length} only ({int(mask.sum()):,} prefixes)",
        )
    if title:
        fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)
