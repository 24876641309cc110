"""All lenses on a toy model: exact Bayes next-token distributions and beliefs over the mixed-state tree
(probability-weighted) or a fixed sampled prefix set, with the untrained architecture as a control."""

import time

import numpy as np

import hmm
from analysis.lenses.belief import belief_lens
from analysis.lenses.future import future_lens
from analysis.lenses.inputs import LensInputError, LensInputs, split_rows
from analysis.lenses.predictive import check_horizons
from analysis.lenses.readout import Readout
from analysis.lenses.recipe import Recipe
from analysis.lenses.suite import lens_suite
from analysis.regression.activations import collect_activations, stream_sites
from analysis.regression.analyze import untrained_copy
from analysis.regression.prefixes import PrefixSet, input_layout, prefix_set
from models.keys import jax_key, numpy_rng


def lens_sites(config, sites="residual") -> tuple[str, ...]:
    """Residual-stream sites a lens reads, in depth order, ending with the last block's output (the model's
    final residual). `ln_final` is left out: it is already normalised, and the readout normalises again."""
    if sites == "residual":
        return tuple(s for s in stream_sites(config, "residual") if s != "ln_final")
    if sites == "resid_post":
        return stream_sites(config, "resid_post")
    sites = tuple(sites)
    final = f"blocks.{config.n_layers - 1}.resid_post"
    valid = [s for s in stream_sites(config, "residual") if s != "ln_final"]
    unknown = [s for s in sites if s not in valid]
    if unknown:
        raise LensInputError(f"unknown lens site(s) {unknown}: valid sites are {valid}")
    return tuple(s for s in valid if s in sites and s != final) + (final,)


def toy_inputs(model, prefixes: PrefixSet, sites) -> LensInputs:
    """Activations of every distinct prefix at `sites`, weighted by P(prefix), with the Bayes next-token law."""
    acts = collect_activations(model, prefixes, sites)
    bayes = hmm.predictive_distribution(prefixes.process, prefixes.beliefs)
    return LensInputs({s: acts[s] for s in sites}, prefixes.probs, bayes)


def logit_grid(model, readout: Readout, tokens_L, sites) -> dict:
    """Logit lens of one example sequence: `top[s][t]` token and `prob[s][t]` at every site and position."""
    import jax.numpy as jnp

    _, acts = model(jnp.asarray(tokens_L)[None], capture=sites)
    top, prob = [], []
    for s in sites:
        logp = readout.log_probs(readout.state, acts[s][0])
        top.append(np.asarray(logp.argmax(-1)).tolist())
        prob.append(np.asarray(jnp.exp(logp.max(-1))).tolist())
    return {"tokens": np.asarray(tokens_L).tolist(), "sites": list(sites), "top": top, "prob": prob}


def toy_lenses(
    model,
    process: hmm.Process,
    *,
    sites="residual",
    recipe: Recipe = Recipe(),
    heldout_fraction: float = 0.2,
    tuned: bool = True,
    shared: bool = True,
    transfer: bool = True,
    belief: bool = True,
    future: bool = True,
    horizons=(0, 1, 2, 3),
    future_recipe: Recipe | None = None,
    untrained: bool = True,
    seed: int = 0,
    tree=None,
    progress: bool = False,
) -> dict:
    """The `lenses` section of analysis.json (nats) for a toy model and its process."""
    start, seconds = time.perf_counter(), {}

    def lap(name):
        seconds[name] = time.perf_counter() - start - sum(seconds.values())

    horizons = check_horizons(horizons) if future else ()
    sites = lens_sites(model.config, sites)
    prefixes = prefix_set(process, input_layout(model), tree=tree, key=jax_key(seed, "samples"))
    train, heldout = split_rows(prefixes.num_prefixes, heldout_fraction, recipe.seed)
    readout = Readout.from_model(model)
    inputs = toy_inputs(model, prefixes, sites)
    lap("activations")
    suite = lens_suite(
        readout,
        inputs,
        recipe,
        heldout_fraction=heldout_fraction,
        tuned=tuned,
        shared=shared,
        transfer=transfer,
        progress=progress,
    )
    out = {
        "units": "nats",
        "prefixes": {
            "source": prefixes.source,
            "count": prefixes.num_prefixes,
            "heldout": int(len(heldout)),
            "train": int(len(train)),
        },
        "trained": suite.to_dict(),
    }
    lap("suite")
    if belief:
        out["belief"] = belief_lens(inputs.resid, prefixes.beliefs, prefixes.probs, train, heldout)
        lap("belief")
    if future:
        kwargs = {} if future_recipe is None else {"recipe": future_recipe}
        out["future"] = future_lens(
            inputs.resid, process, prefixes.beliefs, prefixes.probs, train, heldout, horizons, **kwargs
        )
        lap("future")
    example = numpy_rng(seed, "lens_example").integers(len(prefixes.inputs_MxL))  # one seeded sequence
    out["logit_grid"] = logit_grid(model, readout, prefixes.inputs_MxL[example], sites)
    if untrained:
        control = untrained_copy(model, seed)
        control_suite = lens_suite(
            Readout.from_model(control),
            toy_inputs(control, prefixes, sites),
            recipe,
            heldout_fraction=heldout_fraction,
            tuned=tuned,
            shared=shared,
            transfer=False,
        )
        out["untrained"] = control_suite.to_dict()
        lap("untrained")
    seconds["total"] = time.perf_counter() - start
    out["seconds"] = seconds
    return out
