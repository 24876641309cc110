"""The logit lens: the model's frozen readout applied directly to a residual site."""

import numpy as np

from analysis.lenses.evaluate import site_metrics
from analysis.lenses.inputs import LensInputs
from analysis.lenses.readout import Readout
from analysis.lenses.translator import identity


def logit_lens_logits(readout: Readout, h_NxD):
    """`logits_from_residual(h)`: what the model would predict if this residual were its last."""
    return readout.apply(readout.state, h_NxD)


def logit_lens(readout: Readout, inputs: LensInputs, rows, sites=None, batch_size: int = 4096) -> tuple[dict, dict]:
    """Per-site metrics of the logit lens on `rows` (see `site_metrics`)."""
    sites = inputs.sites if sites is None else inputs.check_sites(sites)
    return site_metrics(readout, inputs, rows, sites, identity(1, inputs.dim), np.zeros(len(sites), int), batch_size)
