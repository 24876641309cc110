"""One model's measurement: every site and concatenation regressed onto every target, with the controls."""

from dataclasses import dataclass, field

import numpy as np

import hmm
from analysis.regression.crossval import cv_summary, fold_fits, fold_means, out_of_fold
from analysis.regression.fit import RCOND, AffineFit, solve
from analysis.regression.folds import RANDOM, random_folds
from analysis.regression.heldout_null import heldout_shuffle_r2
from analysis.regression.icl_targets import icl_targets, source_targets
from analysis.regression.metrics import regression_metrics
from analysis.regression.moments import design, moments
from analysis.regression.nulls import (
    DEFAULT_CV_PERMUTATIONS,
    DEFAULT_PERMUTATIONS,
    NullDistribution,
    permutation_chunks,
    shuffle_r2,
)
from analysis.regression.prefixes import PrefixSet
from models.keys import numpy_rng


@dataclass(frozen=True)
class Settings:
    """What to measure. `num_shuffles=0` or `cv_folds=0` turns that control off; `num_cv_shuffles` permutations
    (0: none) give the held-out null, when cross-validation is on."""

    weighting: str = "prob"  # "prob" (docs/design.md), "paper" (token-level duplication, the paper's OLS), "uniform"
    num_shuffles: int = DEFAULT_PERMUTATIONS
    num_cv_shuffles: int = DEFAULT_CV_PERMUTATIONS
    cv_folds: int = 5
    seed: int = 0
    rcond: float = RCOND  # relative singular-value cut-off of every fit (raise it to regularise wide designs)


@dataclass
class TargetResult:
    """The fit onto one target: metrics, predicted coordinates (for figures), and the controls."""

    metrics: dict
    predicted_NxC: np.ndarray
    null: NullDistribution | None = None
    cv: dict | None = None
    cv_null: NullDistribution | None = None  # held-out R^2 of permuted targets against the real held-out R^2

    def to_dict(self) -> dict:
        cv = (
            None
            if self.cv is None
            else {**self.cv, "folds": RANDOM, "shuffle": self.cv_null.summary() if self.cv_null else None}
        )
        return {**self.metrics, "shuffle": self.null.summary() if self.null else None, "cv": cv}


@dataclass
class GroupResult:
    """One site, or a concatenation of sites, regressed onto each target by one affine map."""

    name: str
    sites: tuple
    dim: int
    rank: int
    targets: dict = field(default_factory=dict)  # target name -> TargetResult
    decoder: AffineFit | None = None  # raw concatenated activations (sites in order) -> all targets side by side

    def to_dict(self) -> dict:
        return {
            "sites": list(self.sites),
            "dim": self.dim,
            "rank": self.rank,
            "targets": {t: r.to_dict() for t, r in self.targets.items()},
        }


def regression_targets(prefixes: PrefixSet) -> dict:
    """`belief`: the posterior after the prefix; `next_token`: the Bayes next-token distribution from it; for
    in-context processes also `component` and the posterior-mean transition matrices (`icl_targets`); for the
    Dirichlet Markov family (no finite states) `transition` and `next_token` (`source_targets`)."""
    if not isinstance(prefixes.process, hmm.Process):
        return source_targets(prefixes)
    return {
        "belief": prefixes.beliefs,
        "next_token": hmm.predictive_distribution(prefixes.process, prefixes.beliefs),
        **icl_targets(prefixes),
    }


def _ordered_union(groups: dict) -> list:
    return list(dict.fromkeys(site for sites in groups.values() for site in sites))


def measure(acts: dict, prefixes: PrefixSet, groups: dict, settings: Settings = Settings()) -> dict:
    """`{group name: GroupResult}` for `groups = {name: (site, ...)}` over activations `{site: [N, D]}`.

    Every fit comes from one eigendecomposition of its weighted design; the shuffle null reuses it for all
    permutations, and cross-validation reuses the per-fold moments of the same pass over the data.
    """
    targets = regression_targets(prefixes)
    n, folds = prefixes.num_prefixes, settings.cv_folds
    if folds:  # rows in fold order: each fold is a contiguous block, so folds cost no copies
        fold_N = random_folds(n, folds, numpy_rng(settings.seed, "cv"))
        order = np.argsort(fold_N, kind="stable")
        fold_starts = np.searchsorted(fold_N[order], np.arange(folds + 1))
    else:
        order, fold_starts = np.arange(n), None
    w = prefixes.weights(settings.weighting)[order]
    ordered_targets = {t: v[order] for t, v in targets.items()}
    y_NxC = np.concatenate(list(ordered_targets.values()), axis=1)
    counts = prefixes.counts[order]
    d = design(acts, _ordered_union(groups), w, rows=order)
    full = any(len(sites) > 1 for sites in groups.values())
    m = moments(d, y_NxC, w, fold_starts, full=full)
    solutions = {g: solve(m, d.indices(sites), rcond=settings.rcond) for g, sites in groups.items()}
    nulls = {}
    if settings.num_shuffles:
        chunks = permutation_chunks(n, settings.num_shuffles, numpy_rng(settings.seed, "shuffle"))
        gram = m.centred(slice(None))[3] if full else None
        nulls = shuffle_r2(d.x_NxD, w, ordered_targets, solutions, chunks, gram)
    fits = {g: fold_fits(m, sol.idx, settings.rcond) for g, sol in solutions.items()} if folds else {}
    cv_nulls = {}
    if fits and settings.num_cv_shuffles:
        chunks = permutation_chunks(n, settings.num_cv_shuffles, numpy_rng(settings.seed, "cv_shuffle"))
        cv_nulls = heldout_shuffle_r2(d.x_NxD, w, ordered_targets, fits, fold_starts, fold_means(m), chunks)
    spans = np.cumsum([0] + [t.shape[1] for t in targets.values()])
    results = {}
    for g, sol in solutions.items():
        yhat = sol.predict(d.x_NxD)
        yhat_cv = out_of_fold(d.x_NxD, fold_starts, fits[g]) if folds else None
        decoder = AffineFit(*d.raw_coefficients(sol.idx, sol.beta_DxC, sol.intercept_C), sol.rank)
        result = GroupResult(g, tuple(groups[g]), sol.beta_DxC.shape[0], sol.rank, decoder=decoder)
        for t, lo, hi in zip(targets, spans[:-1], spans[1:]):
            y, pred = y_NxC[:, lo:hi], yhat[:, lo:hi]
            metrics = regression_metrics(y, pred, w, counts)
            null = NullDistribution(nulls[g][t], metrics["r2"]) if nulls else None
            cv = cv_summary(y, yhat_cv[:, lo:hi], w, fold_starts) if folds else None
            cv_null = NullDistribution(cv_nulls[g][t], cv["r2"]) if cv_nulls else None
            in_prefix_order = np.empty_like(pred)
            in_prefix_order[order] = pred
            result.targets[t] = TargetResult(metrics, in_prefix_order, null, cv, cv_null)
        results[g] = result
    return results
