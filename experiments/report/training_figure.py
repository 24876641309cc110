"""Loss curves against the Bayes-optimal loss, from a run's metrics records."""

from pathlib import Path

import numpy as np

from analysis.figures.canvas import new_figure, save_figure
from analysis.figures.labels import count

LN2 = 0.6931471805599453


def logged_train_loss(metrics: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """The finely logged training loss (`train/loss_steps`, `train/loss_values` of every record): steps, nats."""
    steps = [s for m in metrics for s in m.get("train/loss_steps", ())]
    values = [v for m in metrics for v in m.get("train/loss_values", ())]
    return np.asarray(steps, np.float64), np.asarray(values, np.float64)


def train_loss_label(steps) -> str:
    """The legend of the logged training loss: the steps each point averages (the spacing of the logged steps;
    steps that do not increase, as in a file two runs wrote into, are left out of the spacing)."""
    steps = np.unique(np.asarray(steps, np.int64))
    gaps = np.diff(steps[steps > 0], prepend=0)
    width = int(np.median(gaps[gaps > 0])) if np.any(gaps > 0) else 1
    return f"training loss (batch mean over {count(width, 'step')})"


def _tokens_per_step(evals: list[dict]) -> float:
    return next((m["tokens"] / m["step"] for m in evals if m.get("step") and "tokens" in m), 1.0)


def plot_training_curves(metrics: list[dict], optimal_loss: float, path) -> Path | None:
    """Two panels: the training loss (logged every few steps) and the exact evaluations (bits per token) with
    the optimum; the excess loss of the evaluations (relative loss - 1, log scale: batch noise in the training
    loss would swamp it)."""
    evals = [m for m in metrics if "eval/loss" in m]
    if not evals:
        return None
    per_step = _tokens_per_step(evals)
    tokens = np.array([m.get("tokens", m["step"]) for m in evals], np.float64)
    steps, train = logged_train_loss(metrics)
    fig = new_figure(11.0, 4.0)
    ax_loss, ax_rel = fig.subplots(1, 2)
    if len(train):
        ax_loss.plot(steps * per_step, train / LN2, "-", color="C1", lw=0.8, alpha=0.8, label=train_loss_label(steps))
    ax_loss.plot(tokens, [m["eval/loss"] / LN2 for m in evals], "o-", color="C0", label="evaluation (exact)")
    ax_loss.axhline(optimal_loss / LN2, color="k", ls="--", label=f"Bayes optimum {optimal_loss / LN2:.4f}")
    rel = [(t, m["eval/relative_loss"] - 1.0) for t, m in zip(tokens, evals) if "eval/relative_loss" in m]
    if rel:
        ax_rel.plot(*zip(*rel), "o-", color="C0", label="evaluation (exact)")
    first = min([t for t in tokens if t > 0] + list(steps[:1] * per_step), default=1.0)
    for ax in (ax_loss, ax_rel):
        ax.set_xscale("symlog", linthresh=float(first))
        ax.set_xlim(left=0.0)
        ax.set_xlabel("training tokens")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    ax_loss.set(ylabel="cross-entropy (bits / token)", title="Loss against the optimum")
    ax_rel.set(yscale="log", ylabel="relative loss − 1", title="Excess loss (relative to the optimum)")
    return save_figure(fig, path, dpi=110)
