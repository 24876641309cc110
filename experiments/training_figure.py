"""Loss curves against the Bayes-optimal loss, from a run's metrics records."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LN2 = 0.6931471805599453


def plot_training_curves(metrics: list[dict], optimal_loss: float, path) -> Path | None:
    """Two panels: eval/train loss (bits per token) with the optimum, and relative loss (log scale)."""
    evals = [m for m in metrics if "eval/loss" in m]
    if not evals:
        return None
    tokens = [m.get("tokens", m["step"]) for m in evals]
    fig, (ax_loss, ax_rel) = plt.subplots(1, 2, figsize=(11, 4))
    ax_loss.plot(tokens, [m["eval/loss"] / LN2 for m in evals], "o-", label="eval loss (exact)")
    if any("train/loss" in m for m in evals):
        train = [(m.get("tokens", m["step"]), m["train/loss"] / LN2) for m in evals if "train/loss" in m]
        ax_loss.plot(*zip(*train), ".-", alpha=0.6, label="train loss (batch)")
    ax_loss.axhline(optimal_loss / LN2, color="k", ls="--", label=f"Bayes optimum {optimal_loss / LN2:.4f}")
    first_nonzero = min((t for t in tokens if t > 0), default=1)
    ax_loss.set_xscale("symlog", linthresh=first_nonzero)
    ax_rel.set_xscale("symlog", linthresh=first_nonzero)
    ax_loss.set(xlabel="training tokens", ylabel="cross-entropy (bits / token)",
                title="Loss against the optimum")
    ax_loss.legend()
    rel = [(t, m["eval/relative_loss"] - 1.0) for t, m in zip(tokens, evals) if "eval/relative_loss" in m]
    if rel:
        ax_rel.plot(*zip(*rel), "o-", color="C3")
        ax_rel.set(yscale="log", xlabel="training tokens", ylabel="relative loss - 1",
                   title="Excess loss (relative to the optimum)")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
