"""In-context loss by position: the model against the Bayes predictors and the in-context n-gram estimators."""

import numpy as np

from analysis.figures.canvas import new_figure, save_figure

STYLES = {
    "model": {"color": "black", "lw": 2.4},
    "pool": {"color": "tab:blue", "ls": "--"},
    "bayes": {"color": "tab:blue", "ls": "--"},
    "dirichlet": {"color": "tab:red", "ls": "--"},
    "unigram": {"color": "tab:green", "ls": ":"},
    "bigram": {"color": "tab:purple", "ls": ":"},
}


def plot_icl_loss_by_position(section: dict, path, title: str = ""):
    """Loss (nats) against tokens seen (log axis) for every curve of `section` (a `report["icl"]`); right: the
    model's excess over the training process's Bayes loss."""
    positions = np.asarray(section["positions"])
    fig = new_figure(11.0, 4.0)
    left, right = fig.subplots(1, 2)
    for name, curve in section["curves"].items():
        left.plot(positions, curve, label=section["labels"][name], **STYLES.get(name, {}))
    left.set_xscale("log")
    left.set_xlabel("tokens seen")
    left.set_ylabel("next-token loss (nats)")
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    bayes = np.asarray(section["curves"][section["training_bayes"]])
    right.plot(positions, np.asarray(section["curves"]["model"]) - bayes, color="black", label="model − Bayes")
    right.plot(positions, section["kl_to_bayes"], color="tab:orange", ls="--", label="KL(Bayes ‖ model)")
    right.axhline(0.0, color="0.5", lw=0.8)
    right.set_xscale("log")
    right.set_xlabel("tokens seen")
    right.set_ylabel("nats")
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    average = "every sequence (exact)" if section["exact"] else f"{section['num_sequences']:,} sampled sequences"
    fig.suptitle(f"{title}\nin-context loss by position, over {average}", fontsize=10)
    return save_figure(fig, path)


def plot_diversity(rows: list[dict], threshold: dict, path, title: str = ""):
    """KL of the model to the finite-pool and the Dirichlet Bayes predictors against the pool size M (log axes),
    one panel per held-out set (sequences from the pool; from the prior), threshold marked."""
    rows = sorted(rows, key=lambda r: r["pool_size"])
    M = np.asarray([r["pool_size"] for r in rows])
    fig = new_figure(10.0, 3.8)
    for ax, which in zip(fig.subplots(1, 2), ("pool", "prior")):
        for bayes, style in (("pool", STYLES["pool"]), ("dirichlet", STYLES["dirichlet"])):
            ax.plot(
                M,
                [r["distances"][which][bayes]["mean"] for r in rows],
                marker="o",
                label=f"model to {bayes} Bayes",
                **{**style, "ls": "-"},
            )
        ax.plot(
            M,
            [r["distances"][which]["bayes_gap"]["mean"] for r in rows],
            color="0.5",
            ls=":",
            label="pool Bayes to Dirichlet Bayes",
        )
        if threshold.get("threshold") is not None:
            ax.axvline(threshold["threshold"], color="0.3", lw=0.8, ls="--", label="threshold")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("pool size M (tasks)")
        ax.set_ylabel("KL(Bayes ‖ model), nats per token")
        ax.set_title(f"held-out sequences from the {which}", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)
