"""Weighted per-site metrics of translated readouts on a set of rows, in fixed-size row batches.

Memory is bounded by one site's `[batch, V]` at a time (`lax.map` over sites), so V = 49,152 fits.
"""

from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from analysis.lenses.inputs import LensInputs
from analysis.lenses.metrics import cross_entropy, entropy, kl_from_log_probs, kl_from_probs, token_surprisal
from analysis.lenses.readout import Readout
from analysis.lenses.translator import take, translate


@lru_cache(maxsize=32)
def _batch_sums(apply, has_bayes: bool, has_ids: bool):
    """Jitted: weighted sums over one batch of rows, per site, of every lens metric and the model's own."""
    readout = Readout(apply)

    def scores(logp_BxV, ref_logp_BxV, bayes_BxV, ids_B):
        out = {
            "kl_model": kl_from_log_probs(ref_logp_BxV, logp_BxV),
            "entropy": entropy(logp_BxV),
            "top1_model": (logp_BxV.argmax(-1) == ref_logp_BxV.argmax(-1)).astype(jnp.float32),
        }
        if has_bayes:
            out["kl_bayes"] = kl_from_probs(bayes_BxV, logp_BxV)
            out["cross_entropy"] = cross_entropy(bayes_BxV, logp_BxV)
            out["top1_bayes"] = (logp_BxV.argmax(-1) == bayes_BxV.argmax(-1)).astype(jnp.float32)
        if has_ids:
            out["cross_entropy_observed"] = token_surprisal(ids_B, logp_BxV)
            out["top1_observed"] = (logp_BxV.argmax(-1) == ids_B).astype(jnp.float32)
        return out

    def fn(state, params, which_S, h_SxBxD, final_BxD, bayes_BxV, ids_B, w_B):
        ref = readout.log_probs(state, final_BxD)

        def one_site(args):
            index, h_BxD = args
            logp = readout.log_probs(state, translate(take(params, index), h_BxD))
            return {k: jnp.sum(v * w_B) for k, v in scores(logp, ref, bayes_BxV, ids_B).items()}

        lens = jax.lax.map(one_site, (which_S, h_SxBxD))
        model = {k: jnp.sum(v * w_B) for k, v in scores(ref, ref, bayes_BxV, ids_B).items()}
        return lens, model

    return jax.jit(fn)


def site_metrics(
    readout: Readout,
    inputs: LensInputs,
    rows,
    sites,
    params: dict,
    which_S=None,
    batch_size: int = 4096,
    progress: bool = False,
) -> tuple[dict, dict]:
    """Weighted means over `rows` of each metric of translator `which_S[s]` of `params` read at `sites[s]`.

    `params = {"A": [T, D, D], "b": [T, D]}`; `which_S` defaults to `0..S-1`. Returns `({metric: [S]},
    {metric: float})`: the lenses', and the model's own output's (`kl_model` 0, `top1_model` 1). Metrics:
    `kl_model` KL(model || lens), `entropy`, `top1_model` (argmax agreement with the model); with Bayes
    `kl_bayes`, `cross_entropy` (expected under Bayes), `top1_bayes`; with observed ids
    `cross_entropy_observed`, `top1_observed`.
    """
    sites = inputs.check_sites(sites)
    rows = np.asarray(rows)
    which = np.arange(len(sites)) if which_S is None else np.asarray(which_S)
    has_bayes, has_ids = inputs.bayes_NxV is not None, inputs.next_ids_N is not None
    fn = _batch_sums(readout.apply, has_bayes, has_ids)
    w_all = np.asarray(inputs.weights_N, np.float64)
    total = w_all[rows].sum()
    lens_sums, model_sums = None, None
    dev_params = jax.tree.map(jnp.asarray, params)
    for lo in tqdm(range(0, len(rows), batch_size), desc="lens metrics", disable=not progress):
        idx = rows[lo : lo + batch_size]
        pad = np.concatenate([idx, np.repeat(idx[-1:], batch_size - len(idx))]) if len(rows) > batch_size else idx
        w = np.zeros(len(pad), np.float32)
        w[: len(idx)] = w_all[idx] / total
        h = np.stack([np.asarray(inputs.resid[s])[pad] for s in sites]).astype(np.float32)
        final = np.asarray(inputs.resid[inputs.final_site])[pad].astype(np.float32)
        bayes = np.asarray(inputs.bayes_NxV, np.float32)[pad] if has_bayes else np.zeros((len(pad), 1), np.float32)
        ids = np.asarray(inputs.next_ids_N, np.int32)[pad] if has_ids else np.zeros(len(pad), np.int32)
        lens, model = fn(readout.state, dev_params, jnp.asarray(which), h, final, bayes, ids, w)
        lens, model = jax.tree.map(lambda a: np.asarray(a, np.float64), (lens, model))
        lens_sums = lens if lens_sums is None else jax.tree.map(np.add, lens_sums, lens)
        model_sums = model if model_sums is None else jax.tree.map(np.add, model_sums, model)
    return lens_sums, {k: float(v) for k, v in model_sums.items()}
