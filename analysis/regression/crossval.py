"""k-fold cross-validation over distinct prefixes: each prefix is held out exactly once, in one fold (the fold
assignments themselves are in `analysis.regression.folds`)."""

import numpy as np

from analysis.regression.fit import Solution, solve
from analysis.regression.metrics import weighted_r2
from analysis.regression.moments import Moments


def fold_fits(m: Moments, idx, rcond: float) -> list[Solution]:
    """One fit per fold on columns `idx`, each leaving that fold out (and choosing its own directions)."""
    return [solve(m, idx, exclude=f, rcond=rcond) for f in range(len(m.mass_F))]


def fold_means(m: Moments) -> np.ndarray:
    """`[F, D]`: the weighted mean of every design column over the rows each fold's fit trains on."""
    mass, xsum = m.mass_F.sum() - m.mass_F, m.xsum_FxD.sum(0) - m.xsum_FxD
    return xsum / mass[:, None]


def out_of_fold(x_NxD: np.ndarray, fold_starts, fits: list[Solution]) -> np.ndarray:
    """Predictions `[N, C]` for every row from the fit that left its fold out; rows are in fold order (fold f
    is rows `fold_starts[f]:fold_starts[f+1]`, as the moments were built)."""
    yhat = np.empty((len(x_NxD), fits[0].beta_DxC.shape[1]))
    for f, fit in enumerate(fits):
        rows = slice(int(fold_starts[f]), int(fold_starts[f + 1]))
        yhat[rows] = fit.predict(x_NxD, rows)
    return yhat


def cv_summary(y_NxC, yhat_NxC, w_N, fold_starts) -> dict:
    """Held-out R^2 pooled over all prefixes (each predicted by the fit that did not see it), and per fold."""
    spans = [slice(int(a), int(b)) for a, b in zip(fold_starts[:-1], fold_starts[1:])]
    folds = [weighted_r2(y_NxC[s], yhat_NxC[s], w_N[s]) for s in spans]
    return {
        "r2": weighted_r2(y_NxC, yhat_NxC, w_N),
        "r2_folds": folds,
        "r2_fold_mean": float(np.mean(folds)),
        "r2_fold_std": float(np.std(folds)),
    }
