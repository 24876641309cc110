"""Summary figures: R^2 by site against the shuffle null and the untrained model; R^2 over training tokens."""

import numpy as np

from analysis.figures.canvas import new_figure, save_figure

TARGET_TITLES = {
    "belief": "belief state",
    "next_token": "next-token distribution",
    "component": "component posterior",
    "transition": "posterior-mean transition matrix (pool)",
    "transition_dirichlet": "posterior-mean transition matrix (Dirichlet prior)",
}


def plot_r2_by_site(trained: dict, untrained: dict | None, path, title: str = ""):
    """Bars of R^2 per site (one panel per target): trained, untrained, held-out (CV), and the shuffle null
    drawn as a grey band from its mean to its 99th percentile. `trained`/`untrained`: `{group: GroupResult}`."""
    groups = list(trained)
    targets = list(next(iter(trained.values())).targets)
    fig = new_figure(max(6.0, 0.55 * len(groups) + 2.0) + 2.6, 3.0 * len(targets) + 0.4)
    axes = fig.subplots(len(targets), 1, squeeze=False)[:, 0]
    x = np.arange(len(groups))
    for ax, target in zip(axes, targets):
        res = [trained[g].targets[target] for g in groups]
        width = 0.38 if untrained else 0.7
        offset = -width / 2 if untrained else 0.0
        ax.bar(x + offset, [r.metrics["r2"] for r in res], width, color="tab:blue", label="trained: R² (weighted)")
        if untrained:
            ax.bar(
                x + width / 2,
                [untrained[g].targets[target].metrics["r2"] for g in groups],
                width,
                color="tab:orange",
                alpha=0.8,
                label="untrained (same architecture at init)",
            )
        if res[0].cv is not None:
            ax.scatter(
                x + offset,
                [r.cv["r2"] for r in res],
                marker="_",
                s=300,
                color="black",
                zorder=4,
                label="trained: held-out R² (k-fold CV)",
            )
        if res[0].null is not None:
            for xi, r in zip(x + offset, res):
                s = r.null.summary()
                ax.fill_between(
                    [xi - width / 2, xi + width / 2], s["mean"], s["q99"], color="0.3", alpha=0.45, zorder=3, lw=0
                )
            ax.fill_between([], [], [], color="0.3", alpha=0.45, label="shuffle null: mean to 99th percentile")
        ax.set_xticks(x, groups, rotation=45, ha="right", fontsize=9)
        ax.set_ylim(min(0.0, ax.get_ylim()[0]), 1.02)
        ax.set_ylabel("R²")
        ax.set_title(f"regression onto the {TARGET_TITLES.get(target, target)}", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    if title:
        fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)


def plot_r2_vs_tokens(
    tokens_T,
    r2_by_group: dict,
    path,
    target: str = "belief",
    title: str = "",
    null_band=None,
    band_label: str = "shuffle null",
):
    """R^2 of each group against training tokens (left) and the unexplained share 1 - R^2 on a log axis
    (right, where late training shows). Tokens on a log axis, linear near 0 so the initialisation shows.

    `null_band = (mean_T, q99_T)`: a shuffle null per checkpoint, drawn as a grey band.
    """
    fig = new_figure(11.0, 4.6)
    left, right = fig.subplots(1, 2)
    tokens_T = np.asarray(tokens_T, np.float64)
    for group, r2_T in r2_by_group.items():
        r2_T = np.asarray(r2_T)
        left.plot(tokens_T, r2_T, marker="o", ms=3, label=group)
        right.plot(tokens_T, np.clip(1.0 - r2_T, 1e-12, None), marker="o", ms=3, label=group)
    if null_band is not None:
        mean_T, q99_T = null_band
        left.fill_between(
            tokens_T,
            mean_T,
            q99_T,
            color="0.5",
            alpha=0.35,
            lw=0,
            label=f"{band_label}: mean to 99th percentile (right: 1 − those)",
        )
        right.fill_between(tokens_T, 1.0 - np.asarray(q99_T), 1.0 - np.asarray(mean_T), color="0.5", alpha=0.35, lw=0)
    positive = tokens_T[tokens_T > 0]
    for ax in (left, right):
        if len(positive):
            ax.set_xscale("symlog", linthresh=float(positive.min()))
        ax.set_xlabel("training tokens")
        ax.grid(alpha=0.3)
    name = TARGET_TITLES.get(target, target)
    left.set_ylabel(f"R² onto the {name}")
    left.set_ylim(min(0.0, left.get_ylim()[0]), 1.02)
    fig.legend(*left.get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=9)
    right.set_yscale("log")
    right.set_ylabel("unexplained share 1 − R² (log)")
    if title:
        fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)
