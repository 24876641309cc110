"""Fit quality of regressed beliefs (or next-token distributions) against the truth, per prefix weights."""

import numpy as np


def _ratio(sse: float, sst: float) -> float:
    return float(1.0 - sse / sst) if sst > 0 else float("nan")


def squared_errors(y_NxC, yhat_NxC, w_N):
    """Per coordinate: weighted residual and total sums of squares, `(sse_C, sst_C)`, and `(y - yhat)^2`."""
    w = np.asarray(w_N, np.float64)
    resid2_NxC = (y_NxC - yhat_NxC) ** 2
    centred2_NxC = (y_NxC - w @ y_NxC / w.sum()) ** 2
    return w @ resid2_NxC, w @ centred2_NxC, resid2_NxC


def weighted_r2(y_NxC, yhat_NxC, w_N) -> float:
    """`1 - sum_i w_i |y_i - yhat_i|^2 / sum_i w_i |y_i - ybar_w|^2`, pooled over coordinates."""
    sse_C, sst_C, _ = squared_errors(y_NxC, yhat_NxC, w_N)
    return _ratio(sse_C.sum(), sst_C.sum())


def regression_metrics(y_NxC, yhat_NxC, w_N, counts_N=None) -> dict:
    """All reported numbers for one fit.

    - `r2`: probability-weighted R^2 pooled over coordinates (`weighted_r2`).
    - `rmse`: `sqrt(sum_i w_i |y_i - yhat_i|^2 / sum_i w_i)`, the squared error SUMMED over coordinates
      (the root of the weighted mean squared Euclidean error).
    - `mse_unweighted`: mean over distinct prefixes AND coordinates of `(y - yhat)^2`.
    - `mse_paper`: mean over every full-length sequence, position and coordinate (each prefix counted once
      per sequence extending it: the original paper's token-level average); needs `counts_N`.
    - `mean_distance`: weighted mean Euclidean distance `|y_i - yhat_i|`.
    - `r2_per_coordinate`: weighted R^2 of each coordinate.
    """
    w = np.asarray(w_N, np.float64)
    sse_C, sst_C, resid2_NxC = squared_errors(y_NxC, yhat_NxC, w)
    sq_N = resid2_NxC.sum(axis=1)
    out = {
        "r2": _ratio(sse_C.sum(), sst_C.sum()),
        "rmse": float(np.sqrt(sse_C.sum() / w.sum())),
        "mse_unweighted": float(resid2_NxC.mean()),
        "mse_paper": None,
        "mean_distance": float(w @ np.sqrt(sq_N) / w.sum()),
        "r2_per_coordinate": [_ratio(a, b) for a, b in zip(sse_C, sst_C)],
    }
    if counts_N is not None:
        counts = np.asarray(counts_N, np.float64)
        out["mse_paper"] = float(counts @ sq_N / counts.sum() / y_NxC.shape[1])
    return out
