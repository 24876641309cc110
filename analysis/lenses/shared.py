"""The shared lens: ONE affine translator trained on every site jointly (the logit lens is the identity case)."""

from dataclasses import dataclass

import numpy as np

from analysis.lenses.evaluate import site_metrics
from analysis.lenses.inputs import LensInputs
from analysis.lenses.readout import Readout
from analysis.lenses.recipe import Recipe
from analysis.lenses.training import train_translators


@dataclass
class SharedLens:
    """One translator `{"A": [D, D], "b": [D]}` for all `sites`, and its training loss `[steps]`."""

    sites: tuple
    params: dict
    losses: np.ndarray

    def metrics(self, readout: Readout, inputs: LensInputs, rows, batch_size: int = 4096) -> tuple[dict, dict]:
        stacked = {k: v[None] for k, v in self.params.items()}
        return site_metrics(readout, inputs, rows, self.sites, stacked, np.zeros(len(self.sites), int), batch_size)


def fit_shared_lens(
    readout: Readout, inputs: LensInputs, train_rows, sites=None, recipe: Recipe = Recipe(), exclude_final: bool = True
) -> SharedLens:
    """One translator trained on the mean KL over `sites` (by default without the final site, where the
    identity is already exact and would only pull the shared map toward it)."""
    sites = inputs.sites if sites is None else inputs.check_sites(sites)
    trained_on = [s for s in sites if not (exclude_final and s == inputs.final_site)] or list(sites)
    rows = np.asarray(train_rows)
    resid = {s: np.asarray(inputs.resid[s])[rows] for s in trained_on}
    final = np.asarray(inputs.resid[inputs.final_site])[rows]
    params, losses = train_translators(readout, resid, final, np.asarray(inputs.weights_N)[rows], recipe, shared=True)
    return SharedLens(sites, params, losses)
