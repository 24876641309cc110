"""Held-out fits with `rcond` chosen by nested cross-validation inside the training folds.

The outer fold f is held out; its fit's `rcond` is the grid value with the least weighted squared error when
each other fold g is predicted by a fit on the folds other than f and g (inner folds = the outer training
folds). Every fit comes from the per-fold moments of one pass over the data (`analysis.regression.moments`), so fold f's
rows enter none of the sums its own fit or its `rcond` choice uses.
"""

from dataclasses import dataclass

import numpy as np

from analysis.regression.fit import single_threaded_eigh
from analysis.regression.moments import Design, Moments, design, moments

RCOND_GRID = (1e-6, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)


@dataclass(frozen=True)
class HeldOut:
    """Out-of-fold predictions (rows in the caller's order) and the `rcond` each outer fold's fit used."""

    yhat_NxC: np.ndarray
    rcond_F: list


def _fold_rows(fold_starts, f: int) -> slice:
    return slice(int(fold_starts[f]), int(fold_starts[f + 1]))


def _moment_sse(m: Moments, yy_F, g: int, idx, beta_DxC, b0_C) -> float:
    """Weighted squared error of `x @ beta + b0` on fold g from that fold's (uncentred) moments alone."""
    gram = m.gram_FxDxD[g][idx][:, idx]
    fit = np.sum(beta_DxC * m.cross_FxDxC[g][idx]) + b0_C @ m.ysum_FxC[g]
    square = np.sum(beta_DxC * (gram @ beta_DxC)) + 2 * b0_C @ (beta_DxC.T @ m.xsum_FxD[g][idx])
    return float(yy_F[g] - 2 * fit + square + m.mass_F[g] * b0_C @ b0_C)


def _spectrum(m: Moments, d: Design, w_N, fold_starts, idx, excluded: list):
    """`(values, vectors, x_mean, y_mean, coords_DxC)` of the centred weighted Gram on columns `idx` over the
    folds not `excluded` (`coords = vectors^T cross`). With more columns than training rows the eigenvectors
    come from the rows' (smaller) kernel matrix: the same nonzero spectrum at a fraction of the cost."""
    _, x_mean, y_mean, gram, cross = m.centred(idx, exclude=excluded)
    rows = np.concatenate(
        [
            np.arange(int(a), int(b))
            for f, (a, b) in enumerate(zip(fold_starts[:-1], fold_starts[1:]))
            if f not in excluded
        ]
    )
    if gram.shape[0] > len(rows):
        xc = np.sqrt(w_N[rows])[:, None] * (d.x_NxD[rows][:, idx] - x_mean)
        values, u = single_threaded_eigh(xc @ xc.T)
        positive = values > np.finfo(float).eps * max(values.max(initial=0.0), np.finfo(float).tiny)
        values, vectors = values[positive], xc.T @ u[:, positive] / np.sqrt(values[positive])
    else:
        values, vectors = single_threaded_eigh(gram)
    return values, vectors, x_mean, y_mean, vectors.T @ cross


def _kept(values, rcond: float):
    return values > rcond**2 * max(values.max(initial=0.0), np.finfo(float).tiny)


def _inner_errors(m: Moments, d: Design, y_NxC, w_N, yy_F, fold_starts, idx, outer: int, grid) -> np.ndarray:
    """Weighted squared error per `rcond` in `grid`, summed over the inner folds of outer fold `outer`
    (from the inner fold's moments when it has more rows than columns, else from its rows)."""
    sse = np.zeros(len(grid))
    for g in range(len(m.mass_F)):
        rows = _fold_rows(fold_starts, g)
        if g == outer or rows.stop == rows.start:
            continue
        values, vectors, x_mean, y_mean, c = _spectrum(m, d, w_N, fold_starts, idx, [outer, g])
        by_moments = rows.stop - rows.start > vectors.shape[0]
        z = None if by_moments else (d.x_NxD[rows][:, idx] - x_mean) @ vectors
        for r, rcond in enumerate(grid):
            keep = _kept(values, rcond)
            coef = c[keep] / values[keep, None]
            if by_moments:
                beta = vectors[:, keep] @ coef
                sse[r] += _moment_sse(m, yy_F, g, idx, beta, y_mean - x_mean @ beta)
            else:
                pred = z[:, keep] @ coef + y_mean
                sse[r] += w_N[rows] @ np.sum((y_NxC[rows] - pred) ** 2, axis=1)
    return sse


def _heldout_prediction(m: Moments, d: Design, w_N, fold_starts, idx, f: int, rcond: float) -> np.ndarray:
    """Fold f's rows predicted by the fit on the other folds (the fit `regression.solve` makes)."""
    values, vectors, x_mean, y_mean, c = _spectrum(m, d, w_N, fold_starts, idx, [f])
    keep = _kept(values, rcond)
    rows = _fold_rows(fold_starts, f)
    return (d.x_NxD[rows][:, idx] - x_mean) @ vectors[:, keep] @ (c[keep] / values[keep, None]) + y_mean


def fold_layout(fold_N: np.ndarray):
    """`(order, fold_starts)`: rows sorted by fold (stable), and where each fold's block starts."""
    fold_N = np.asarray(fold_N)
    order = np.argsort(fold_N, kind="stable")
    return order, np.searchsorted(fold_N[order], np.arange(int(fold_N.max()) + 2))


def nested_cv(
    blocks: dict, groups: dict, y_NxC: np.ndarray, w_N: np.ndarray, fold_N: np.ndarray, rcond_grid=RCOND_GRID
) -> dict:
    """`{group: HeldOut}` for `groups = {name: [block, ...]}` over feature blocks `{block: [N, D]}`.

    Every row is predicted by the fit that left its fold out; a one-value `rcond_grid` skips the inner search.
    """
    order, starts = fold_layout(fold_N)
    w = np.asarray(w_N, np.float64)[order]
    y = np.asarray(y_NxC, np.float64)[order]
    names = list(dict.fromkeys(b for members in groups.values() for b in members))
    d = design(blocks, names, w, rows=order)
    m = moments(d, y, w, starts, full=any(len(members) > 1 for members in groups.values()))
    grid = sorted(rcond_grid)
    yy_F = np.array(
        [w[_fold_rows(starts, f)] @ np.sum(y[_fold_rows(starts, f)] ** 2, axis=1) for f in range(len(starts) - 1)]
    )
    out = {}
    for g, members in groups.items():
        idx = d.indices(members)
        yhat = np.empty_like(y)
        chosen = []
        for f in range(len(starts) - 1):
            rcond = grid[0]
            if len(grid) > 1:
                rcond = grid[int(np.argmin(_inner_errors(m, d, y, w, yy_F, starts, idx, f, grid)))]
            rows = _fold_rows(starts, f)
            yhat[rows] = _heldout_prediction(m, d, w, starts, idx, f, rcond)
            chosen.append(rcond)
        in_order = np.empty_like(yhat)
        in_order[order] = yhat
        out[g] = HeldOut(in_order, chosen)
    return out
