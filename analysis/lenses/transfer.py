"""Transfer matrices: translator i applied at site j, minus translator j at site j (diagonal exactly 0)."""

import numpy as np

from analysis.lenses.evaluate import site_metrics
from analysis.lenses.inputs import LensInputs
from analysis.lenses.readout import Readout


def penalty_matrix(raw_IxJ: np.ndarray) -> np.ndarray:
    """`raw[i, j] - raw[j, j]`: how much worse lens i does at site j than site j's own lens (diagonal 0)."""
    raw = np.asarray(raw_IxJ, np.float64)
    return raw - np.diag(raw)[None, :]


def tuned_transfer(readout: Readout, inputs: LensInputs, rows, sites, params: dict, batch_size: int = 4096) -> dict:
    """`{metric: raw [S, S]}` with `raw[i, j]` = the metric of translator i applied at site j, over `rows`,
    and `{metric}_penalty` for `kl_model` and (when a target is given) the cross-entropies."""
    S = len(sites)
    rows_of = [site_metrics(readout, inputs, rows, sites, params, np.full(S, i), batch_size)[0] for i in range(S)]
    raw = {k: np.stack([r[k] for r in rows_of]) for k in rows_of[0]}
    out = {"raw": raw}
    for k in ("kl_model", "kl_bayes", "cross_entropy", "cross_entropy_observed"):
        if k in raw:
            out[f"{k}_penalty"] = penalty_matrix(raw[k])
    return out
