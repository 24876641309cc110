"""Belief geometry over training: the same regression at every checkpoint, R^2 against training tokens."""

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import hmm
from analysis.figures.emergence import frame_title, plot_emergence_grid, save_emergence_gif
from analysis.figures.geometry import prefix_view
from analysis.figures.summary import plot_r2_vs_tokens
from analysis.regression.activations import DEFAULT_BATCH, collect_activations, resolve_sites
from analysis.regression.analyze import site_groups
from analysis.regression.fit import RCOND
from analysis.regression.measure import Settings, measure
from analysis.regression.prefixes import MAX_TREE_SEQUENCES, NUM_SAMPLES, PrefixSet, input_layout, prefix_set
from models.keys import jax_key

EMERGENCE_SHUFFLES = 100  # per checkpoint: enough for the null band drawn under the curve


def checkpoints_from_dir(checkpoint_dir, steps=None):
    """Yield `(tokens_seen, step, model)` for each checkpoint of a `models` run (tokens = step x batch x n_ctx)."""
    from models.checkpoint import list_checkpoints
    from models.restore import load_checkpoint

    for step in steps if steps is not None else list_checkpoints(checkpoint_dir):
        ck = load_checkpoint(checkpoint_dir, step)
        yield step * ck.train_config.batch_size * ck.model_config.n_ctx, step, ck.model


@dataclass
class TrainingCurve:
    """Per checkpoint: tokens seen, step, and `{group: GroupResult}` (predictions of the emergence group kept)."""

    prefixes: PrefixSet
    groups: dict
    emergence_group: str
    settings: Settings
    tokens: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    results: list = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)

    def r2(self, group: str, target: str = "belief") -> np.ndarray:
        return np.array([r[group].targets[target].metrics["r2"] for r in self.results])

    def null_band(self, group: str, target: str = "belief"):
        """`(mean [T], q99 [T])` of the shuffle null at each checkpoint, or None without shuffles."""
        nulls = [r[group].targets[target].null for r in self.results]
        if any(n is None for n in nulls):
            return None
        return np.array([n.summary()["mean"] for n in nulls]), np.array([n.summary()["q99"] for n in nulls])

    def to_dict(self) -> dict:
        return {
            "emergence_group": self.emergence_group,
            "groups": {g: list(s) for g, s in self.groups.items()},
            "settings": {
                "weighting": self.settings.weighting,
                "num_shuffles": self.settings.num_shuffles,
                "cv_folds": self.settings.cv_folds,
                "seed": self.settings.seed,
            },
            "checkpoints": [
                {"step": s, "tokens": t, "groups": {g: r.to_dict() for g, r in res.items()}}
                for s, t, res in zip(self.steps, self.tokens, self.results)
            ],
            "figures": dict(self.figures),
            "seconds": dict(self.seconds),
        }


def _strip_predictions(results: dict, keep: str) -> dict:
    """Drop predicted coordinates except the emergence group's (memory stays flat over many checkpoints)."""
    for name, res in results.items():
        if name != keep:
            for t in res.targets.values():
                t.predicted_NxC = None
    return results


def analyze_training(
    checkpoints,
    process: hmm.Process,
    *,
    sites="resid_post",
    concat=None,
    emergence_site: str | None = None,
    weighting: str = "prob",
    num_shuffles: int = EMERGENCE_SHUFFLES,
    cv_folds: int = 0,
    seed: int = 0,
    tree=None,
    max_sequences: int = MAX_TREE_SEQUENCES,
    num_samples: int = NUM_SAMPLES,
    batch_size: int = DEFAULT_BATCH,
    out_dir=None,
    figures: bool = True,
    fps: float = 2.0,
    rcond: float = RCOND,
) -> TrainingCurve:
    """Regress each checkpoint's sites onto the beliefs (same prefixes, weights and permutations throughout).

    `checkpoints`: iterable of `(tokens_seen, step, model)` (e.g. `checkpoints_from_dir`). `emergence_site`
    (default: the last site) is the one drawn in the grid and GIF. With `out_dir`, writes
    `figures/r2_vs_tokens.png`, `figures/emergence_grid.png` and `figures/emergence.gif`.
    """
    start = time.perf_counter()
    settings = Settings(weighting=weighting, num_shuffles=num_shuffles, cv_folds=cv_folds, seed=seed, rcond=rcond)
    curve = None
    for tokens, step, model in checkpoints:
        if curve is None:
            prefixes = prefix_set(
                process,
                input_layout(model),
                tree=tree,
                max_sequences=max_sequences,
                num_samples=num_samples,
                key=jax_key(seed, "samples"),
            )
            names = resolve_sites(model, sites)
            groups = site_groups(names, concat)
            curve = TrainingCurve(prefixes, groups, emergence_site or names[-1], settings)
            needed = tuple(dict.fromkeys(s for members in groups.values() for s in members))
        acts = collect_activations(model, curve.prefixes, needed, batch_size)
        curve.results.append(
            _strip_predictions(measure(acts, curve.prefixes, curve.groups, settings), curve.emergence_group)
        )
        curve.tokens.append(int(tokens))
        curve.steps.append(None if step is None else int(step))
    if curve is None:
        raise ValueError("no checkpoints to analyse")
    curve.seconds["analysis"] = time.perf_counter() - start
    if out_dir is not None and figures:
        t0 = time.perf_counter()
        curve.figures.update(draw_training_figures(curve, Path(out_dir), fps))
        curve.seconds["figures"] = time.perf_counter() - t0
    return curve


def draw_training_figures(curve: TrainingCurve, out_dir: Path, fps: float = 2.0) -> dict:
    """R^2 against tokens for every group; the emergence group's geometry as a grid and a GIF."""
    g = curve.emergence_group
    title = hmm.display_name(curve.prefixes.process)
    figures = out_dir / "figures"
    view = prefix_view(curve.prefixes)
    frames = [
        (frame_title(t, r[g].targets["belief"].metrics["r2"], g), r[g].targets["belief"].predicted_NxC)
        for t, r in zip(curve.tokens, curve.results)
    ]
    paths = {
        "r2_vs_tokens": plot_r2_vs_tokens(
            curve.tokens,
            {name: curve.r2(name) for name in curve.groups},
            figures / "r2_vs_tokens.png",
            title=title,
            null_band=curve.null_band(g),
            band_label=f"shuffle null of {g}",
        ),
        "emergence_grid": plot_emergence_grid(
            view, curve.prefixes.beliefs, frames, figures / "emergence_grid.png", title=title
        ),
        "emergence_gif": save_emergence_gif(
            view, curve.prefixes.beliefs, frames, figures / "emergence.gif", title=title, fps=fps
        ),
    }
    return {name: str(Path(path).relative_to(out_dir)) for name, path in paths.items()}
