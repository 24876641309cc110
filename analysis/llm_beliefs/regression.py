"""Residual sites regressed onto the exact belief over (sequence, position) rows, with uniform weights,
cross-validated with whole sequences held out, against in-sample and held-out shuffle nulls."""

import numpy as np

from analysis.ladder.nested_cv import fold_layout
from analysis.regression.crossval import cv_summary, fold_fits, fold_means, out_of_fold
from analysis.regression.fit import RCOND, AffineFit, solve
from analysis.regression.folds import group_folds
from analysis.regression.heldout_null import heldout_shuffle_r2
from analysis.regression.metrics import regression_metrics
from analysis.regression.moments import design, moments
from analysis.regression.nulls import NullDistribution, permutation_chunks, shuffle_r2
from models.keys import numpy_rng


def sequence_folds(sequence_N: np.ndarray, num_folds: int, seed: int = 0) -> np.ndarray:
    """`fold_N`: whole sequences per fold (a sequence's rows never straddle a training and a test fold)."""
    return group_folds(np.asarray(sequence_N), num_folds, numpy_rng(seed, "llm_folds"))


def site_regression(
    acts_NxD, y_NxC, fold_N, num_shuffles: int = 0, num_cv_shuffles: int = 0, seed: int = 0, rcond: float = RCOND
) -> dict:
    """One site's affine map onto `y` with uniform row weights: in-sample metrics, held-out R^2 (each row
    predicted by the fit that left its sequence's fold out), optional nulls, the out-of-fold predictions
    `heldout_NxC` in the caller's row order, and `fold_fits`: fold f's fit (leaving it out) on raw activations."""
    order, starts = fold_layout(fold_N)
    y = np.asarray(y_NxC, np.float64)[order]
    w = np.ones(len(order))
    d = design({"x": acts_NxD}, ["x"], w, rows=order)
    m = moments(d, y, w, starts, full=False)
    sol = solve(m, d.indices(["x"]), rcond=rcond)
    fits = fold_fits(m, sol.idx, rcond)
    heldout = out_of_fold(d.x_NxD, starts, fits)
    out = {
        "metrics": regression_metrics(y, sol.predict(d.x_NxD), w),
        "rank": sol.rank,
        "cv": cv_summary(y, heldout, w, starts),
    }
    n, target = len(order), {"y": y}
    if num_shuffles:
        null = shuffle_r2(
            d.x_NxD, w, target, {"x": sol}, permutation_chunks(n, num_shuffles, numpy_rng(seed, "shuffle"))
        )
        out["shuffle"] = NullDistribution(null["x"]["y"], out["metrics"]["r2"]).summary()
    if num_cv_shuffles:
        null = heldout_shuffle_r2(
            d.x_NxD,
            w,
            target,
            {"x": fits},
            starts,
            fold_means(m),
            permutation_chunks(n, num_cv_shuffles, numpy_rng(seed, "cv_shuffle")),
        )
        out["cv_shuffle"] = NullDistribution(null["x"]["y"], out["cv"]["r2"]).summary()
    in_order = np.empty_like(heldout)
    in_order[order] = heldout
    out["heldout_NxC"] = in_order
    out["fold_fits"] = [AffineFit(*d.raw_coefficients(f.idx, f.beta_DxC, f.intercept_C), f.rank) for f in fits]
    return out


def position_buckets(length: int, names=("early", "mid", "late")) -> dict:
    """`{name: (first, stop)}`: positions cut into equal thirds (or as many parts as names)."""
    edges = np.linspace(0, length, len(names) + 1).round().astype(int)
    return {name: (int(a), int(b)) for name, a, b in zip(names, edges[:-1], edges[1:])}


def bucket_regressions(acts_NxD, y_NxC, fold_N, position_N, buckets: dict, rcond: float = RCOND) -> dict:
    """`{bucket: {r2, cv_r2, rows}}`: a separate fit (and held-out fit) on each bucket's rows."""
    out = {}
    for name, (first, stop) in buckets.items():
        rows = np.flatnonzero((position_N >= first) & (position_N < stop))
        fit = site_regression(
            np.asarray(acts_NxD)[rows], np.asarray(y_NxC)[rows], np.asarray(fold_N)[rows], rcond=rcond
        )
        out[name] = {
            "positions": [first, stop],
            "rows": int(len(rows)),
            "r2": fit["metrics"]["r2"],
            "cv_r2": fit["cv"]["r2"],
        }
    return out
