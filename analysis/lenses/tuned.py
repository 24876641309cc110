"""The tuned lens: one affine translator per site (`h + A h + b`, zero at start), trained on KL(model || lens)."""

from dataclasses import dataclass

import numpy as np

from analysis.lenses.evaluate import site_metrics
from analysis.lenses.inputs import LensInputs
from analysis.lenses.readout import Readout
from analysis.lenses.recipe import Recipe
from analysis.lenses.training import train_translators


@dataclass
class TunedLens:
    """Trained translators `{"A": [S, D, D], "b": [S, D]}` for `sites`, and their training losses `[S, steps]`."""

    sites: tuple
    params: dict
    losses: np.ndarray

    def metrics(self, readout: Readout, inputs: LensInputs, rows, batch_size: int = 4096) -> tuple[dict, dict]:
        return site_metrics(readout, inputs, rows, self.sites, self.params, batch_size=batch_size)


def fit_tuned_lens(
    readout: Readout, inputs: LensInputs, train_rows, sites=None, recipe: Recipe = Recipe(), progress: bool = False
) -> TunedLens:
    """Per-site translators trained on `train_rows` (all sites of one chunk in one vmapped, jitted program)."""
    sites = inputs.sites if sites is None else inputs.check_sites(sites)
    rows = np.asarray(train_rows)
    resid = {s: np.asarray(inputs.resid[s])[rows] for s in sites}
    final = np.asarray(inputs.resid[inputs.final_site])[rows]
    params, losses = train_translators(
        readout, resid, final, np.asarray(inputs.weights_N)[rows], recipe, shared=False, progress=progress
    )
    return TunedLens(sites, params, losses)
