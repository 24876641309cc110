"""Held-out scores of lens translators on real text: KL(model || lens) per layer, cross-entropy in bits per
token and per byte, and (for a lens trained on a token subset) that subset's error against the full readout."""

import numpy as np

from analysis.lenses.evaluate import site_metrics
from analysis.lenses.inputs import LensInputs
from analysis.lenses.readout import Readout
from analysis.lenses.text_rows import bits


def kl_curve_point(model, inputs: LensInputs, rows, sites, batch_size: int = 256):
    """`evaluate(params) -> {"kl_model": [S], "mean_kl": float}` on `rows` (a point of the budget curve;
    the mean is over the lensed sites, the final one excluded)."""
    readout = Readout.from_model(model)

    def evaluate(params) -> dict:
        kl = np.asarray(site_metrics(readout, inputs, rows, sites, params, batch_size=batch_size)[0]["kl_model"])
        return {"kl_model": kl.tolist(), "mean_kl": float(kl[:-1].mean())}

    return evaluate


def text_lens_scores(
    model, inputs: LensInputs, sites, params: dict, n_bytes: int, vocab_ids=None, batch_size: int = 256
) -> dict:
    """Every metric of `site_metrics` per site on all rows of `inputs` (full readout), plus `bits_per_token`
    and `bits_per_byte` of the cross-entropy against the observed next token, and the model's own. With
    `vocab_ids`: `subset_kl_model`, the KL a readout restricted to those tokens reports for the same
    translators, and `subset_kl_error` = subset - full (the approximation's error)."""
    rows = np.arange(inputs.num_rows)
    lens, own = site_metrics(Readout.from_model(model), inputs, rows, sites, params, batch_size=batch_size)
    out = {k: np.asarray(v).tolist() for k, v in lens.items()}
    out |= bits(lens["cross_entropy_observed"], inputs.num_rows, n_bytes)
    out["model"] = own | bits(own["cross_entropy_observed"], inputs.num_rows, n_bytes)
    if vocab_ids is not None:
        subset = Readout.from_function(lambda h: model.logits_from_residual(h, vocab_ids))
        sub = np.asarray(site_metrics(subset, inputs, rows, sites, params, batch_size=batch_size)[0]["kl_model"])
        out["subset_kl_model"] = sub.tolist()
        out["subset_kl_error"] = (sub - np.asarray(lens["kl_model"])).tolist()
    return out
