"""Lens figures (bits): per-site KL curves, transfer heatmaps, future-lens accuracy, and a logit-lens grid."""

from pathlib import Path

import numpy as np

from analysis.figures.canvas import new_figure, save_figure
from analysis.figures.labels import kl_shown

BITS = 1.0 / np.log(2.0)
LENSES = (("logit", "tab:gray"), ("tuned", "tab:blue"), ("shared", "tab:green"))


def plot_kl_curves(section: dict, path, title: str = ""):
    """KL(model || lens) and KL(Bayes || lens) per site for the logit, tuned and shared lenses (held-out rows),
    with the untrained model's tuned lens dashed and the model's own KL to Bayes as a line."""
    trained, control = section["trained"], section.get("untrained")
    sites = trained["sites"]
    x = np.arange(len(sites))
    fig = new_figure(max(7.0, 0.6 * len(sites) + 3.0), 3.4)
    axes = fig.subplots(1, 2)
    for ax, metric, label in ((axes[0], "kl_model", "KL(model ‖ lens)"), (axes[1], "kl_bayes", "KL(Bayes ‖ lens)")):
        for lens, color in LENSES:
            if trained.get(lens) and metric in trained[lens]:
                ax.plot(x, BITS * kl_shown(trained[lens][metric]), "o-", color=color, label=lens)
        if control and control.get("tuned") and metric in control["tuned"]:
            ax.plot(
                x,
                BITS * kl_shown(control["tuned"][metric]),
                "--",
                color="tab:blue",
                alpha=0.5,
                label="tuned, untrained model",
            )
        if metric == "kl_bayes" and "kl_bayes" in trained["model"]:
            ax.axhline(
                BITS * kl_shown(trained["model"]["kl_bayes"]), color="k", lw=0.8, ls=":", label="model's own output"
            )
        ax.set_yscale("symlog", linthresh=1e-3)
        ax.set_ylim(bottom=0.0)  # a KL is never negative
        ax.set_xticks(x, list(sites), rotation=60, fontsize=7)
        ax.set_ylabel(f"{label} (bits)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)


def _heatmap(ax, fig, matrix, sites, label, vmax=None):
    m = np.asarray(matrix, np.float64)
    top = max(m.max(), 1e-9) if vmax is None else vmax
    image = ax.imshow(np.minimum(m, top), cmap="magma_r", vmin=min(0.0, m.min()), vmax=top)
    ax.set_xticks(range(len(sites)), list(sites), rotation=60, fontsize=7)
    ax.set_yticks(range(len(sites)), list(sites), fontsize=7)
    ax.set_xlabel("applied at site j")
    ax.set_ylabel("lens trained at site i")
    fig.colorbar(image, ax=ax, shrink=0.8, label=label)


def plot_transfer(section: dict, path, title: str = ""):
    """Transfer penalties: tuned lens i at site j (KL to the model, bits) and belief map i at site j (R² lost)."""
    panels = []
    transfer = section["trained"].get("transfer")
    if transfer:
        panels.append(
            (
                BITS * np.asarray(transfer["kl_model_penalty"]),
                section["trained"]["sites"],
                "tuned: KL penalty (bits)",
                None,
            )
        )
    if section.get("belief"):
        panels.append(
            (
                section["belief"]["transfer"]["r2_penalty"],
                section["belief"]["sites"],
                "belief: R² lost (capped at 1)",
                1.0,
            )
        )
    if not panels:
        return None
    fig = new_figure(5.2 * len(panels), 4.6)
    for ax, (matrix, sites, label, vmax) in zip(np.atleast_1d(fig.subplots(1, len(panels))), panels):
        _heatmap(ax, fig, matrix, sites, label, vmax)
        ax.set_title(label, fontsize=9)
    fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)


def plot_future(section: dict, path, title: str = ""):
    """Future-lens accuracy (expected probability its argmax is the real token) by site for each N, with the
    Bayes ceiling (dashed) and the best prefix-blind guess (dotted)."""
    future = section["future"]
    sites, acc = future["sites"], np.asarray(future["accuracy"])
    x = np.arange(len(sites))
    fig = new_figure(max(6.0, 0.6 * len(sites) + 2.5), 3.4)
    ax = fig.subplots()
    for h, n in enumerate(future["horizons"]):
        color = f"C{h}"
        ax.plot(x, acc[:, h], "o-", color=color, label=f"N = {n}")
        ax.axhline(future["ceiling"][h], color=color, ls="--", lw=0.8)
        ax.axhline(future["unigram"][h], color=color, ls=":", lw=0.8)
    ax.set_xticks(x, list(sites), rotation=60, fontsize=7)
    ax.set_ylabel("top-1 accuracy on the real token")
    ax.legend(fontsize=7, title="dashed: Bayes ceiling; dotted: prefix-blind", title_fontsize=7)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=9)
    return save_figure(fig, path)


def plot_logit_grid(grid: dict, path, title: str = ""):
    """The logit lens on one sequence: colour = probability of the top token, text = the top token."""
    prob, top = np.asarray(grid["prob"]), np.asarray(grid["top"])
    sites = grid["sites"]
    fig = new_figure(0.55 * prob.shape[1] + 3.0, 0.35 * len(sites) + 1.8)
    ax = fig.subplots()
    image = ax.imshow(prob, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for i in range(prob.shape[0]):
        for j in range(prob.shape[1]):
            ax.text(j, i, str(top[i, j]), ha="center", va="center", fontsize=7, color="w" if prob[i, j] < 0.6 else "k")
    ax.set_yticks(range(len(sites)), list(sites), fontsize=7)
    ax.set_xticks(range(prob.shape[1]), [str(t) for t in grid["tokens"]], fontsize=7)
    ax.set_xlabel("input token at each position")
    fig.colorbar(image, ax=ax, label="probability of the top token")
    ax.set_title(title, fontsize=9)
    return save_figure(fig, path)


def draw_lens_figures(section: dict, out_dir, title: str = "") -> dict:
    """Every lens figure of one `lenses` section under `out_dir/figures`; `{name: path relative to out_dir}`."""
    out_dir = Path(out_dir)
    fig_dir = out_dir / "figures"
    paths = {
        "lens_kl": plot_kl_curves(section, fig_dir / "lens_kl.png", title),
        "lens_transfer": plot_transfer(section, fig_dir / "lens_transfer.png", title),
        "lens_logit_grid": plot_logit_grid(section["logit_grid"], fig_dir / "lens_logit_grid.png", title),
    }
    if section.get("future"):
        paths["lens_future"] = plot_future(section, fig_dir / "lens_future.png", title)
    return {k: str(Path(p).relative_to(out_dir)) for k, p in paths.items() if p is not None}
