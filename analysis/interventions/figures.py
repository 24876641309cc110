"""Figures: the patching curve per site, steering KL before/after with controls, base/target/achieved beliefs, and
the prior-shift test's KL curves per site and shift."""

from pathlib import Path

import numpy as np

from analysis.figures.canvas import new_figure, save_figure
from analysis.figures.geometry import _draw_simplex_frame
from analysis.figures.simplex import belief_projection

KIND_LABELS = {
    "belief": "step along the belief decoder",
    "random": "random step, same norm",
    "next_token": "step along the next-token decoder",
    "encoder": "step along the belief encoder",
    "random_encoder": "random step, encoder step's norm",
}
SHIFT_LABELS = {
    "none": "unsteered",
    "steered": "log-odds decoder step",
    "random": "random step, same norm",
    "encoder": "log-odds encoder step",
    "random_encoder": "random step, encoder step's norm",
}
MAX_OFFSETS = 3
SHIFT_PANELS = 4  # sites (rows) and shifts (columns) drawn at most
SIMPLEX_PANELS = 4
SIMPLEX_POINTS = 60  # pairs drawn per panel (more hide each other)


def plot_patching(section: dict, path, title: str = ""):
    """Fraction of the KL gap closed per site and mode; beside it, the carried-forward belief at later offsets."""
    patch, carry = section.get("patching"), section.get("carry_forward") or {}
    panels = [p for p in (patch, carry if carry.get("num_pairs") else None) if p]
    fig = new_figure(6.5 * len(panels), 3.6)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, data in zip(axes, panels):
        x = np.arange(len(data["sites"]))
        for mode, style in zip(data["modes"], ("-o", "--s")):
            curves = data["closed"][mode]
            if data is patch:
                ax.plot(x, [curves[s] for s in data["sites"]], style, label=f"patch {mode} position(s)")
            else:
                for k in range(min(MAX_OFFSETS, len(data["offsets"]))):
                    ys = [np.nan if curves[s][k] is None else curves[s][k] for s in data["sites"]]
                    ax.plot(x, ys, style, color=f"C{k}", label=f"{mode}, read {data['offsets'][k]} later")
        ax.axhline(0.0, color="0.5", lw=0.8)
        ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
        ax.set_xticks(x, list(data["sites"]), rotation=45, ha="right", fontsize=7)
        ax.set_ylabel("fraction of the KL gap closed")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        ax.set_title(
            f"{data['num_pairs']} pairs differing in belief, read at the patched position"
            if data is patch
            else f"{data['num_pairs']} pairs with one next-token distribution: the belief carried forward",
            fontsize=8,
        )
    if title:
        fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)


def plot_steering_kl(steer: dict, path, title: str = ""):
    """Mean KL from the target's Bayes prediction to the output, before and after each kind of step, per site."""
    sites = steer["sites"]
    fig = new_figure(max(6.0, 0.7 * len(sites) + 2.5) + 2.6, 3.6)
    ax = fig.subplots()
    x = np.arange(len(sites))
    bars = [("before", "kl_before_nats", "0.6")] + [
        (KIND_LABELS[k], f"kl_{k}_nats", f"C{i}") for i, k in enumerate(steer["kinds"])
    ]
    width = 0.8 / len(bars)
    for i, (label, key, colour) in enumerate(bars):
        ax.bar(
            x + (i - (len(bars) - 1) / 2) * width,
            [steer["per_site"][s][key] for s in sites],
            width,
            color=colour,
            label=label,
        )
    ax.set_yscale("log")
    ax.set_xticks(x, list(sites), rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("KL(Bayes prediction of target || output), nats")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    ax.set_title(f"steering {steer['num_pairs']} prefixes to a target belief at one site", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)


def plot_steering_beliefs(points: dict, prefixes, readout_site: str, path, title: str = ""):
    """Base, target and achieved (read back at the last site) beliefs for a few steering sites; a line joins each
    target to where each step landed."""
    sites = list(points)
    chosen = _spread(sites, SIMPLEX_PANELS)
    simplex = prefixes.beliefs.shape[1] == 3 and not prefixes.process.is_generalized
    projection = belief_projection(prefixes.beliefs, prefixes.probs, simplex=simplex, dims=2)
    fig = new_figure(3.4 * len(chosen), 3.7)
    axes = fig.subplots(1, len(chosen), squeeze=False)[0]
    projected = {site: {k: projection(v[:SIMPLEX_POINTS]) for k, v in points[site].items()} for site in chosen}
    cloud = np.concatenate([projection(prefixes.beliefs)] + [v for p in projected.values() for v in p.values()])
    low, high = np.percentile(cloud, 1, axis=0), np.percentile(cloud, 99, axis=0)
    pad = 0.1 * (high - low).max()
    for ax, site in zip(axes, chosen):
        p = projected[site]
        for kind, colour in (("achieved", "C0"), ("achieved_encoder", "C3")):
            for a, b in zip(p["target"], p[kind]):
                ax.plot([a[0], b[0]], [a[1], b[1]], color=colour, alpha=0.35, lw=0.5, zorder=1)
        ax.scatter(*p["base"].T, s=6, color="0.55", label="base belief", zorder=2)
        ax.scatter(*p["target"].T, s=10, marker="x", color="black", lw=0.7, label="target", zorder=3)
        ax.scatter(
            *p["achieved"].T, s=6, color="C0", label=f"achieved by the decoder step (read at {readout_site})", zorder=4
        )
        ax.scatter(*p["achieved_encoder"].T, s=6, color="C3", label="achieved by the encoder step", zorder=4)
        if projection.kind == "simplex":
            _draw_simplex_frame(ax)
            ax.set_axis_off()
        ax.set_xlim(low[0] - pad, high[0] + pad)
        ax.set_ylim(low[1] - pad, high[1] + pad)
        ax.set_aspect("equal")
        ax.set_title(f"steered at {site}", fontsize=8)
    fig.legend(*axes[0].get_legend_handles_labels(), fontsize=7, loc="outside lower center", ncols=3)
    if title:
        fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)


def plot_prior_shift(shift: dict, path, title: str = ""):
    """Per site (rows) and shift (columns): KL per position from the shifted-prior Bayes prediction (solid) and from
    the true-prior one (dashed) to the unsteered, steered and randomly stepped model, with the gap between the two
    Bayes predictions (grey)."""
    sites = _spread(shift["sites"], SHIFT_PANELS)
    deltas = _spread(list(range(len(shift["deltas"]))), SHIFT_PANELS)
    by_key = {(r["site"], i % len(shift["deltas"])): r for i, r in enumerate(shift["results"])}
    fig = new_figure(3.6 * len(deltas) + 2.8, 2.8 * len(sites))
    axes = fig.subplots(len(sites), len(deltas), squeeze=False)
    for row, site in enumerate(sites):
        for col, d in enumerate(deltas):
            ax, r = axes[row, col], by_key[(site, d)]
            x = np.arange(len(r["bayes_kl_shift_vs_base_nats"]))
            ax.plot(x, r["bayes_kl_shift_vs_base_nats"], color="0.6", lw=2.5, label="Bayes: shifted vs true prior")
            for i, (name, label) in enumerate(SHIFT_LABELS.items()):
                curves = r["per_position"][name]
                ax.plot(x, curves["kl_shifted_nats"], "-", color=f"C{i}", lw=1, label=f"{label}: to shifted prior")
                ax.plot(x, curves["kl_base_nats"], "--", color=f"C{i}", lw=1, label=f"{label}: to true prior")
            ax.set_title(f"{site}, shift {shift['deltas'][d]:+.3g} on component {shift['component']}", fontsize=8)
            ax.set_xlabel("position")
            ax.set_ylabel("KL(Bayes || model), nats")
            ax.grid(alpha=0.3)
    axes[0, -1].legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    if title:
        fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)


def _spread(items: list, most: int) -> list:
    """At most `most` items, evenly spread, first and last kept."""
    return [items[int(round(i))] for i in np.linspace(0, len(items) - 1, min(most, len(items)))]


def draw_figures(section: dict, points: dict, prefixes, out_dir: Path, title: str = "") -> dict:
    """Every interventions figure that has data; returns `{name: path relative to out_dir}`."""
    figure_dir = out_dir / "figures"
    paths = {}
    if section.get("patching"):
        paths["interventions_patching"] = plot_patching(section, figure_dir / "interventions_patching.png", title)
    if section.get("steering"):
        steer = section["steering"]
        paths["interventions_steering_kl"] = plot_steering_kl(
            steer, figure_dir / "interventions_steering_kl.png", title
        )
        paths["interventions_steering_beliefs"] = plot_steering_beliefs(
            points, prefixes, steer["readout_site"], figure_dir / "interventions_steering_beliefs.png", title
        )
    if (section.get("prior_shift") or {}).get("results"):
        paths["interventions_prior_shift"] = plot_prior_shift(
            section["prior_shift"], figure_dir / "interventions_prior_shift.png", title
        )
    return {name: str(Path(p).relative_to(out_dir)) for name, p in paths.items()}
