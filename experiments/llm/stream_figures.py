"""Figures of the streamed lenses on an LLM: the held-out KL over the token budget, and the future lens."""

from pathlib import Path

import numpy as np

from analysis.figures.canvas import new_figure, save_figure

CAPTIONS = {
    "budget_curve": "Held-out KL(model ‖ tuned lens) against training tokens: the mean over layers (left) and "
    "each layer (right, darker = deeper); 0 tokens is the logit lens.",
    "future_lens": "Future lens (least squares to the final residual at t + N, read out by the model): "
    "precision@1 of the token at t + 1 + N against the model's own top-1 (left) and the real "
    "token (right) per layer; dashed: the skip-bigram baseline from the training text.",
}


def plot_budget_curve(curve: list, path: Path, title: str = ""):
    tokens = np.array([c["tokens"] for c in curve])
    kl = np.array([c["kl_model"][:-1] for c in curve])  # [points, lensed layers]
    fig = new_figure(10, 3.6)
    ax_mean, ax_layers = fig.subplots(1, 2)
    ax_mean.plot(tokens, kl.mean(1), "o-", color="tab:orange")
    ax_mean.set_ylabel("mean KL(model ‖ lens), nats")
    colours = [(0.9 - 0.7 * i / max(1, kl.shape[1] - 1),) * 3 for i in range(kl.shape[1])]
    for layer in range(kl.shape[1]):
        ax_layers.plot(tokens, kl[:, layer], "-", lw=1, color=colours[layer])
    ax_layers.set_yscale("symlog", linthresh=0.01)
    ax_layers.set_ylabel("KL per layer, nats")
    for ax in (ax_mean, ax_layers):
        ax.set_xlabel("training tokens")
    ax_mean.set_title(title, fontsize=10)
    save_figure(fig, path)


def plot_future_lens(future: dict, path: Path):
    layers, horizons = future["layers"], future["horizons"]
    fig = new_figure(10, 3.6)
    for ax, key in zip(fig.subplots(1, 2), ("model", "real")):
        values = np.asarray(future[f"vs_{key}"])  # [layers, horizons]
        for n in horizons:
            line = ax.plot(layers, values[:, n], "o-", ms=3, label=f"N = {n}")[0]
            ax.axhline(future[f"bigram_vs_{key}"][n], color=line.get_color(), ls="--", lw=1)
        ax.set_xlabel("layer")
        ax.set_ylabel(f"precision@1 vs {'the model' if key == 'model' else 'the real token'}")
        ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    save_figure(fig, path)


def curve_rows(curve: list) -> list[list]:
    return [[c["tokens"], c["mean_kl"], c["kl_model"][0], c["kl_model"][len(c["kl_model"]) // 2]] for c in curve]


def future_rows(future: dict) -> list[list]:
    rows = [
        [f"layer {layer}", *[f"{m:.3f} / {r:.3f}" for m, r in zip(vm, vr)]]
        for layer, vm, vr in zip(future["layers"], future["vs_model"], future["vs_real"])
    ]
    return rows + [
        ["skip-bigram", *[f"{m:.3f} / {r:.3f}" for m, r in zip(future["bigram_vs_model"], future["bigram_vs_real"])]]
    ]
