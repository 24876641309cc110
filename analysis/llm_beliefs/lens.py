"""Lenses against Bayes on rendered process sequences: the logit lens (and a tuned lens trained on the model's
own renormalised output) read out over the symbol tokens only, scored by KL(Bayes || lens) per layer."""

import inspect

import jax.numpy as jnp
import numpy as np

from analysis.lenses import LensInputs, Readout, Recipe, fit_tuned_lens, logit_lens


def symbol_readout(model, symbol_ids_V) -> Readout:
    """The model's final norm + unembedding restricted to the symbol tokens (a softmax over them is the
    prediction renormalised over the symbols); uses the cheaper `vocab=` readout when the model offers it."""
    ids = jnp.asarray(symbol_ids_V)
    if "vocab" in inspect.signature(model.logits_from_residual).parameters:
        return Readout.from_function(lambda h: model.logits_from_residual(h, vocab=ids))
    return Readout.from_function(lambda h: jnp.take(model.logits_from_residual(h), ids, axis=-1))


def _lists(metrics: dict) -> dict:
    return {k: np.asarray(v).tolist() for k, v in metrics.items()}


def lenses_against_bayes(
    model,
    symbol_ids_V,
    resid: dict,
    bayes_NxV,
    heldout_rows,
    tuned_steps: int = 0,
    seed: int = 0,
    batch_size: int = 256,
) -> dict:
    """Per-site metrics (`kl_bayes`, `kl_model`, `top1_bayes`, ...) on `heldout_rows` of the logit lens and, with
    `tuned_steps > 0`, of a tuned lens trained on the other rows; `resid` in depth order, the last site the
    model's final residual. Returns plain lists and the model's own metrics."""
    readout = symbol_readout(model, symbol_ids_V)
    inputs = LensInputs(resid=resid, weights_N=np.ones(len(bayes_NxV)), bayes_NxV=np.asarray(bayes_NxV))
    heldout = np.asarray(heldout_rows)
    logit, own = logit_lens(readout, inputs, heldout, batch_size=1024)
    out = {"sites": list(resid), "logit": _lists(logit), "model": _lists(own)}
    if tuned_steps:
        train = np.setdiff1d(np.arange(inputs.num_rows), heldout)
        recipe = Recipe(steps=tuned_steps, batch_size=batch_size, eval_batch_size=1024, seed=seed)
        tuned = fit_tuned_lens(readout, inputs, train, recipe=recipe)
        out["tuned"] = _lists(tuned.metrics(readout, inputs, heldout, batch_size=1024)[0])
        out["tuned_recipe"] = {"steps": tuned_steps, "batch_size": batch_size, "train_rows": int(len(train))}
    return out
