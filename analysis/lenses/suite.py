"""Logit, tuned and shared lenses and the tuned transfer matrix on one model's cached rows, as one JSON dict."""

import time
from dataclasses import dataclass, field

import numpy as np

from analysis.lenses.inputs import LensInputs, split_rows
from analysis.lenses.logit import logit_lens
from analysis.lenses.readout import Readout
from analysis.lenses.recipe import Recipe
from analysis.lenses.shared import SharedLens, fit_shared_lens
from analysis.lenses.transfer import tuned_transfer
from analysis.lenses.tuned import TunedLens, fit_tuned_lens


@dataclass
class LensSuite:
    """Everything `lens_suite` measured; `to_dict()` is plain JSON (nats)."""

    sites: tuple
    final_site: str
    train_rows: np.ndarray
    heldout_rows: np.ndarray
    recipe: Recipe
    model: dict  # the model's own output on held-out rows
    logit: dict
    tuned: TunedLens | None = None
    tuned_metrics: dict | None = None
    shared: SharedLens | None = None
    shared_metrics: dict | None = None
    transfer: dict | None = None
    seconds: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        def per_site(metrics):
            return None if metrics is None else {k: np.asarray(v).tolist() for k, v in metrics.items()}

        out = {
            "units": "nats",
            "sites": list(self.sites),
            "final_site": self.final_site,
            "rows": {"train": int(len(self.train_rows)), "heldout": int(len(self.heldout_rows))},
            "recipe": dict(self.recipe.__dict__),
            "model": dict(self.model),
            "logit": per_site(self.logit),
            "tuned": per_site(self.tuned_metrics),
            "shared": per_site(self.shared_metrics),
            "seconds": dict(self.seconds),
        }
        if self.tuned is not None:
            out["tuned_train_loss"] = {
                "first": self.tuned.losses[:, 0].tolist(),
                "last": self.tuned.losses[:, -1].tolist(),
            }
        if self.shared is not None:
            out["shared_train_loss"] = {"first": float(self.shared.losses[0]), "last": float(self.shared.losses[-1])}
        if self.transfer is not None:
            out["transfer"] = {k: np.asarray(v).tolist() for k, v in self.transfer.items() if k != "raw"}
            out["transfer"]["raw"] = {k: np.asarray(v).tolist() for k, v in self.transfer["raw"].items()}
        return out


def lens_suite(
    readout: Readout,
    inputs: LensInputs,
    recipe: Recipe = Recipe(),
    *,
    sites=None,
    heldout_fraction: float = 0.2,
    tuned: bool = True,
    shared: bool = True,
    transfer: bool = True,
    progress: bool = False,
) -> LensSuite:
    """Split rows (seeded by `recipe.seed`), fit tuned and shared lenses on the training rows, and measure every
    lens (and the transfer matrix) on the held-out rows."""
    sites = inputs.sites if sites is None else inputs.check_sites(sites)
    train, heldout = split_rows(inputs.num_rows, heldout_fraction, recipe.seed)
    seconds, t0 = {}, time.perf_counter()
    logit, model = logit_lens(readout, inputs, heldout, sites, recipe.eval_batch_size)
    seconds["logit"] = time.perf_counter() - t0
    suite = LensSuite(sites, inputs.final_site, train, heldout, recipe, model, logit, seconds=seconds)
    if tuned or transfer:
        t0 = time.perf_counter()
        suite.tuned = fit_tuned_lens(readout, inputs, train, sites, recipe, progress)
        seconds["tuned_fit"] = time.perf_counter() - t0
        suite.tuned_metrics = suite.tuned.metrics(readout, inputs, heldout, recipe.eval_batch_size)[0]
        seconds["tuned"] = time.perf_counter() - t0
    if shared:
        t0 = time.perf_counter()
        suite.shared = fit_shared_lens(readout, inputs, train, sites, recipe)
        suite.shared_metrics = suite.shared.metrics(readout, inputs, heldout, recipe.eval_batch_size)[0]
        seconds["shared"] = time.perf_counter() - t0
    if transfer:
        t0 = time.perf_counter()
        suite.transfer = tuned_transfer(readout, inputs, heldout, sites, suite.tuned.params, recipe.eval_batch_size)
        seconds["transfer"] = time.perf_counter() - t0
    return suite
