"""The future lens: from one site's activation, an affine map to logits for the token N = 0..3 steps after the
next one, trained on the exact N-step predictive distribution; scored against it and against the Bayes ceiling."""

from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
import optax

from analysis.lenses.metrics import kl_from_probs
from analysis.lenses.predictive import check_horizons, n_step_predictive
from analysis.lenses.recipe import Recipe
from analysis.lenses.training import batch_rows


@lru_cache(maxsize=8)
def _trainer(recipe: Recipe):
    """Jitted: maps `[S, H, D, V]` trained by Adam on KL(exact || softmax(x W + c)), vmapped over sites and horizons."""
    opt = optax.chain(
        optax.clip_by_global_norm(recipe.grad_clip),
        optax.adam(optax.linear_schedule(recipe.learning_rate, 0.0, recipe.steps)),
    )

    def train_one(x_NxD, p_NxV, rows_TxB):
        params = {"W": jnp.zeros((x_NxD.shape[1], p_NxV.shape[1])), "c": jnp.zeros(p_NxV.shape[1])}

        def loss(q, rows_B):
            logits = x_NxD[rows_B] @ q["W"] + q["c"][None]
            return kl_from_probs(p_NxV[rows_B], jax.nn.log_softmax(logits)).mean()

        def step(carry, rows_B):
            q, s = carry
            grads = jax.grad(loss)(q, rows_B)
            updates, s = opt.update(grads, s, q)
            return (optax.apply_updates(q, updates), s), None

        return jax.lax.scan(step, (params, opt.init(params)), rows_TxB)[0][0]

    per_horizon = jax.vmap(train_one, in_axes=(None, 0, None))
    return jax.jit(jax.vmap(per_horizon, in_axes=(0, None, None)))


def _standardise(x_SxNxD, train_rows, w):
    """Centre and scale each site's features by training-row statistics (Adam then needs no per-site lr)."""
    xt = x_SxNxD[:, train_rows]
    wt = w[train_rows] / w[train_rows].sum()
    mean = np.einsum("n,snd->sd", wt, xt)
    sd = np.sqrt(np.einsum("n,snd->sd", wt, (xt - mean[:, None]) ** 2)) + 1e-6
    return ((x_SxNxD - mean[:, None]) / sd[:, None]).astype(np.float32)


def future_lens(
    resid: dict,
    process,
    beliefs_NxS,
    weights_N,
    train_rows,
    heldout_rows,
    horizons=(0, 1, 2, 3),
    recipe: Recipe = Recipe(optimizer="adam", learning_rate=0.05, weight_decay=0.0, steps=400),
) -> dict:
    """Per site and horizon N on held-out rows (weighted): `kl` KL(exact || lens), `top1` agreement of the lens's
    argmax with the exact distribution's, `accuracy` expected probability that the lens's argmax is the real
    token (`sum_n w_n P_N(argmax lens_n)`), beside the Bayes `ceiling` (`sum_n w_n max_x P_N(x)`) and the
    `unigram` floor (the best single guess, ignoring the prefix)."""
    horizons = check_horizons(horizons)
    sites = list(resid)
    w = np.asarray(weights_N, np.float64)
    exact_HxNxV = np.stack([n_step_predictive(process, beliefs_NxS, n) for n in horizons])
    x = _standardise(np.stack([np.asarray(resid[s], np.float32) for s in sites]), train_rows, w)
    rows = batch_rows(w[train_rows], recipe, stream=3)
    params = _trainer(recipe)(jnp.asarray(x[:, train_rows]), jnp.asarray(exact_HxNxV[:, train_rows], jnp.float32), rows)
    xt, wt = x[:, heldout_rows], w[heldout_rows] / w[heldout_rows].sum()
    logits_SxHxNxV = np.einsum("snd,shdv->shnv", xt, np.asarray(params["W"])) + np.asarray(params["c"])[:, :, None]
    logq = np.asarray(jax.nn.log_softmax(jnp.asarray(logits_SxHxNxV)), np.float64)
    exact = exact_HxNxV[:, heldout_rows]
    kl = np.asarray(kl_from_probs(jnp.asarray(exact[None]), jnp.asarray(logq))) @ wt
    guess = logq.argmax(-1)  # [S, H, N]
    hit = np.take_along_axis(np.broadcast_to(exact[None], logq.shape), guess[..., None], -1)[..., 0]
    top1 = (guess == exact.argmax(-1)[None]) @ wt
    marginal_HxV = np.einsum("n,hnv->hv", wt, exact)
    return {
        "sites": sites,
        "horizons": list(horizons),
        "kl": kl.tolist(),
        "top1": top1.tolist(),
        "accuracy": (hit @ wt).tolist(),
        "ceiling": (exact.max(-1) @ wt).tolist(),
        "unigram": marginal_HxV.max(-1).tolist(),
    }
