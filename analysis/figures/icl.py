"""In-context loss by position: the model against the Bayes predictors and the in-context n-gram estimators."""

import numpy as np

from analysis.figures.canvas import new_figure, save_figure

STYLES = {"model": dict(color="black", lw=2.4), "pool": dict(color="tab:blue", ls="--"),
          "bayes": dict(color="tab:blue", ls="--"), "dirichlet": dict(color="tab:red", ls="--"),
          "unigram": dict(color="tab:green", ls=":"), "bigram": dict(color="tab:purple", ls=":")}


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
