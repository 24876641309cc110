"""`interventions(model, process)`: activation patching and belief steering against the Bayes answer."""

import dataclasses
import time
from pathlib import Path

import numpy as np

import hmm
from analysis.interventions.decoders import fit_decoders
from analysis.interventions.forward import check_sites
from analysis.interventions.pairs import draw_pairs
from analysis.interventions.patching import MODES, carry_forward, patching
from analysis.interventions.steering import steering
from analysis.interventions.truth import check_belief
from analysis.regression.fit import RCOND
from analysis.regression.prefixes import input_layout, prefix_set
from models.config import ConfigError
from models.keys import jax_key, numpy_rng


def _check_counts(**counts) -> None:
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ConfigError(f"{name}={value!r} is invalid: must be an integer >= 0")


def interventions(
    model,
    process: hmm.Process,
    *,
    sites="residual",
    num_pairs: int = 2000,
    carry_pairs: int = 1000,
    steering_pairs: int = 1000,
    modes=MODES,
    target_belief=None,
    prior_shift=False,
    seed: int = 0,
    rcond: float = RCOND,
    tree=None,
    prefixes=None,
    decoders: dict | None = None,
    batch_size: int = 1024,
    out_dir=None,
    figures: bool = True,
    progress: bool = False,
) -> tuple[dict, dict]:
    """Patching curve, carry-forward of same-prediction pairs, and belief steering with controls.

    Returns `(section, figure paths)`: `section` is the `interventions` entry of analysis.json. Pairs come from
    the model's prefix set (the exact mixed-state tree when small enough; or `prefixes`, a PrefixSet already
    built for this model and process). `target_belief`: steer every base to
    this one belief instead of to its donor's. `prior_shift`: for a mixture, also the prior-shift test
    (`analysis.interventions.prior_shift`): True for its defaults, or a `PriorShiftSettings`. `decoders`: `{site: SiteDecoder}` already fitted (else fitted here
    with `rcond`). With `out_dir`, figures go to `out_dir/figures`.
    """
    start = time.perf_counter()
    sites = check_sites(model, sites)
    _check_counts(num_pairs=num_pairs, carry_pairs=carry_pairs, steering_pairs=steering_pairs)
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise ConfigError(f"modes={list(modes)} is invalid: choose from {list(MODES)}")
    target = None if target_belief is None else check_belief(process, target_belief)
    shift = _shift_settings(prior_shift, process, sites, model)
    if prefixes is None:
        prefixes = prefix_set(process, input_layout(model), tree=tree, key=jax_key(seed, "samples"))
    seconds = {"prefixes": time.perf_counter() - start}
    section = {
        "settings": {
            "sites": list(sites),
            "num_pairs": num_pairs,
            "carry_pairs": carry_pairs,
            "steering_pairs": steering_pairs,
            "modes": list(modes),
            "seed": seed,
            "rcond": rcond,
            "target_belief": None if target is None else target.tolist(),
            "prior_shift": bool(prior_shift),
            "prior_shift_settings": None if shift is None else dataclasses.asdict(shift),
            "prefix_source": prefixes.source,
            "num_prefixes": prefixes.num_prefixes,
        }
    }
    pairs = draw_pairs(prefixes, max(num_pairs, steering_pairs), numpy_rng(seed, "intervention_pairs"))
    t0 = time.perf_counter()
    section["patching"] = (
        patching(model, prefixes, pairs.head(num_pairs), sites, modes, batch_size, progress)
        if num_pairs and len(pairs)
        else None
    )
    seconds["patching"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    same = draw_pairs(
        prefixes, carry_pairs, numpy_rng(seed, "intervention_carry_pairs"), same_prediction=True, min_lookahead=1
    )
    section["carry_forward"] = (
        carry_forward(model, prefixes, same, sites, modes, batch_size, progress)
        if len(same)
        else {
            "num_pairs": 0,
            "note": "no two prefixes of one length share a next-token distribution but differ in belief",
        }
    )
    seconds["carry_forward"] = time.perf_counter() - t0
    points = {}
    if steering_pairs and len(pairs):
        t0 = time.perf_counter()
        steer = pairs.head(steering_pairs)
        decoders = dict(decoders or {})
        missing = [s for s in sites if s not in decoders]
        if missing:
            decoders.update(fit_decoders(model, prefixes, missing, rcond=rcond, batch_size=batch_size))
        seconds["decoders"] = time.perf_counter() - t0
        targets = prefixes.beliefs[steer.donor] if target is None else np.tile(target, (len(steer), 1))
        section["steering"], points = steering(
            model,
            prefixes,
            steer.base,
            steer.sequence,
            targets,
            sites,
            decoders,
            numpy_rng(seed, "intervention_steering"),
            batch_size,
            progress,
        )
        seconds["steering"] = time.perf_counter() - t0 - seconds["decoders"]
    else:
        section["steering"] = None
    if shift is not None:
        t0 = time.perf_counter()
        section["prior_shift"] = _prior_shift(model, prefixes, shift, sites, seed, rcond, batch_size, progress)
        seconds["prior_shift"] = time.perf_counter() - t0
    paths = {}
    if out_dir is not None and figures:
        from analysis.interventions.figures import draw_figures

        t0 = time.perf_counter()
        paths = draw_figures(section, points, prefixes, Path(out_dir), title=repr(process))
        seconds["figures"] = time.perf_counter() - t0
    section["figures"] = dict(paths)
    section["seconds"] = {**seconds, "total": time.perf_counter() - start}
    return section, paths


def _shift_settings(prior_shift, process: hmm.Process, sites, model):
    """`prior_shift` as PriorShiftSettings (None when off), its shifts and sites checked before any model runs."""
    if prior_shift is False or prior_shift is None:
        return None
    from analysis.interventions.prior_shift import PriorShiftSettings

    shift = PriorShiftSettings() if prior_shift is True else prior_shift
    if not isinstance(shift, PriorShiftSettings):
        raise ConfigError(f"prior_shift={prior_shift!r} is invalid: true, false or a PriorShiftSettings")
    if process.is_mixture:
        shift.delta_vectors(process)
    if shift.sites != "last":
        check_sites(model, shift.sites)
    return shift


def _prior_shift(model, prefixes, shift, sites, seed: int, rcond: float, batch_size: int, progress: bool) -> dict:
    """The prior-shift test at every site and shift where the process is a mixture, else a note saying why it did
    not run: `{sites, component, deltas, num_sequences, results [one per site and shift, site-major]}`."""
    if not prefixes.process.is_mixture:
        return {"note": f"the prior-shift test needs a mixture of processes, got {prefixes.process!r}"}
    from analysis.interventions.prior_shift import prior_shifts

    shift_sites = (sites[-1],) if shift.sites == "last" else check_sites(model, shift.sites)
    results = prior_shifts(
        model,
        prefixes,
        shift_sites,
        shift.delta_vectors(prefixes.process),
        num_sequences=shift.num_sequences,
        seed=seed,
        rcond=rcond,
        batch_size=batch_size,
        progress=progress,
    )
    return {
        "sites": list(shift_sites),
        "component": shift.component,
        "deltas": [float(d) for d in shift.deltas],
        "num_sequences": shift.num_sequences,
        "results": results,
    }
