"""The belief lens: the affine regression onto the belief state, fitted per site, and its transfer matrix."""

import numpy as np

from analysis.lenses.transfer import penalty_matrix
from analysis.regression.fit import RCOND, fit_affine
from analysis.regression.metrics import weighted_r2


def belief_lens(resid: dict, beliefs_NxS, weights_N, train_rows, heldout_rows, rcond: float = RCOND) -> dict:
    """Per site, `fit_affine` of beliefs on activations over the training rows; on held-out rows the weighted
    R^2 and MSE of every map i applied at every site j. Returns `{"r2": [S], "mse": [S], "transfer": {"r2":
    raw [S][S], "mse": raw, "r2_penalty": R^2[j,j] - R^2[i,j], "mse_penalty": MSE[i,j] - MSE[j,j]}}`
    (penalties >= 0 mean map i is worse at j than j's own map; diagonals exactly 0)."""
    sites = list(resid)
    y = np.asarray(beliefs_NxS, np.float64)
    w = np.asarray(weights_N, np.float64)
    fits = [fit_affine(np.asarray(resid[s])[train_rows], y[train_rows], w[train_rows], rcond) for s in sites]
    y_te, w_te = y[heldout_rows], w[heldout_rows]
    held = [np.asarray(resid[s], np.float64)[heldout_rows] for s in sites]
    r2 = np.array([[weighted_r2(y_te, fit.predict(x), w_te) for x in held] for fit in fits])
    mse = np.array([[w_te @ ((fit.predict(x) - y_te) ** 2).sum(1) / w_te.sum() for x in held] for fit in fits])
    return {
        "sites": sites,
        "r2": np.diag(r2).tolist(),
        "mse": np.diag(mse).tolist(),
        "transfer": {
            "r2": r2.tolist(),
            "mse": mse.tolist(),
            "r2_penalty": (-penalty_matrix(r2)).tolist(),
            "mse_penalty": penalty_matrix(mse).tolist(),
        },
    }
