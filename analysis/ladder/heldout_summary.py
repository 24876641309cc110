"""Held-out R^2 over several fold seeds: mean ± sd, within each prefix length, and on subsets of prefixes."""

import numpy as np

from analysis.regression.folds import STRATIFIED_BY_BELIEF
from analysis.regression.metrics import weighted_r2


def subset_r2(y_NxC, yhat_NxC, w_N, mask_N) -> float | None:
    """Weighted R^2 on the rows in `mask_N` (about their own weighted mean); None with under two rows."""
    if np.count_nonzero(mask_N) < 2:
        return None
    r2 = weighted_r2(y_NxC[mask_N], yhat_NxC[mask_N], w_N[mask_N])
    return None if np.isnan(r2) else r2


def mean_sd(values) -> dict:
    """`{mean, sd (ddof 1; None for one value), values}` of the non-None values."""
    data = np.array([v for v in values if v is not None], float)
    if not len(data):
        return {"mean": None, "sd": None, "values": list(values)}
    return {
        "mean": float(data.mean()),
        "sd": float(data.std(ddof=1)) if len(data) > 1 else None,
        "values": [float(v) for v in data],
    }


def seed_summary(
    y_NxC, yhats, w_N, lengths_N=None, subsets: dict | None = None, folds: str = STRATIFIED_BY_BELIEF
) -> dict:
    """Held-out R^2 of each fold seed's out-of-fold predictions `yhats` (a list of `[N, C]`): `r2` as
    `mean_sd`, `r2_by_length {length: mean over seeds}` and `{subset: mean_sd}` for boolean row masks;
    `folds` names the fold scheme (`analysis.regression.folds`), also inside `r2`."""
    w = np.asarray(w_N, np.float64)
    out = {"folds": folds, "r2": {**mean_sd([weighted_r2(y_NxC, yhat, w) for yhat in yhats]), "folds": folds}}
    if lengths_N is not None:
        out["r2_by_length"] = {
            int(length): mean_sd([subset_r2(y_NxC, yhat, w, lengths_N == length) for yhat in yhats])["mean"]
            for length in np.unique(lengths_N)
        }
    for name, mask in (subsets or {}).items():
        out[name] = mean_sd([subset_r2(y_NxC, yhat, w, mask) for yhat in yhats])
        out[name]["num_prefixes"] = int(np.count_nonzero(mask))
    return out


def unexplained_ratio(r2_model, r2_baseline):
    """`{ratio: (1 - R^2_model) / (1 - R^2_baseline), baseline_perfect}`: the model's unexplained variance as
    a multiple of the baseline's. A perfect baseline (1 - R^2 <= 1e-12) gives ratio None and
    `baseline_perfect: True` (nothing is left for the model to explain better); missing numbers give None."""
    if r2_model is None or r2_baseline is None:
        return {"ratio": None, "baseline_perfect": None}
    model, base = 1.0 - r2_model, 1.0 - r2_baseline
    if base <= 1e-12:
        return {"ratio": None, "baseline_perfect": True}
    return {"ratio": float(model / base), "baseline_perfect": False}
