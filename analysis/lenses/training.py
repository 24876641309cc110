"""Train affine translators on `KL(model || lens)` at the same row: per site (vmapped) or shared by sites."""

from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from analysis.lenses.metrics import kl_from_log_probs
from analysis.lenses.readout import Readout
from analysis.lenses.recipe import Recipe
from analysis.lenses.translator import identity, translate
from models.keys import numpy_rng


@lru_cache(maxsize=32)
def _trainer(apply, recipe: Recipe, per_site: bool):
    """A jitted program: `(readout_state, resid_SxNxD, final_NxD, rows_TxB) -> (translators, losses)`.

    `per_site`: one translator per site, trained independently (vmap over sites, one optimiser state each:
    the global-norm clip is per translator); else one translator trained on the mean loss over all sites.
    """
    readout = Readout(apply)
    opt = recipe.optax()

    def train_one(params, state, resid_KxNxD, final_NxD, rows_TxB):
        def loss(p, h_KxBxD, ref_logp_BxV):
            lens_logp = readout.log_probs(state, translate(p, h_KxBxD))
            return kl_from_log_probs(ref_logp_BxV[None], lens_logp).mean()

        def step(carry, rows_B):
            p, opt_state = carry
            ref_logp = jax.lax.stop_gradient(readout.log_probs(state, final_NxD[rows_B]))
            value, grads = jax.value_and_grad(loss)(p, resid_KxNxD[:, rows_B], ref_logp)
            updates, opt_state = opt.update(grads, opt_state, p)
            return (optax.apply_updates(p, updates), opt_state), value

        (params, _), losses = jax.lax.scan(step, (params, opt.init(params)), rows_TxB)
        return params, losses

    def program(state, resid_SxNxD, final_NxD, rows_TxB):
        S, _, D = resid_SxNxD.shape
        if per_site:
            start = identity(S, D)
            return jax.vmap(train_one, in_axes=(0, None, 0, None, None))(
                start, state, resid_SxNxD[:, None], final_NxD, rows_TxB
            )
        params, losses = train_one(
            jax.tree.map(lambda a: a[0], identity(1, D)), state, resid_SxNxD, final_NxD, rows_TxB
        )
        return params, losses

    return jax.jit(program)


def batch_rows(weights_N, recipe: Recipe, stream: int) -> jnp.ndarray:
    """`[steps, batch_size]` row indices drawn with replacement, proportional to the weights (seeded)."""
    w = np.asarray(weights_N, np.float64)
    rng = numpy_rng(recipe.seed, f"lens_batches_{stream}")
    return jnp.asarray(rng.choice(len(w), size=(recipe.steps, recipe.batch_size), p=w / w.sum()), jnp.int32)


def train_translators(
    readout: Readout,
    resid: dict,
    final_NxD,
    weights_N,
    recipe: Recipe = Recipe(),
    shared: bool = False,
    progress: bool = False,
) -> tuple[dict, np.ndarray]:
    """Translators for the sites of `resid = {site: [N, D]}` (the training rows only), trained to match the
    model's output `readout(final_NxD)` row by row.

    Returns `(params, losses)`: per site `{"A": [S, D, D], "b": [S, D]}` and training losses `[S, steps]`;
    `shared=True`: one translator `{"A": [D, D], "b": [D]}` for all sites and losses `[steps]`.
    """
    sites = list(resid)
    rows = batch_rows(weights_N, recipe, int(shared))
    final = jnp.asarray(final_NxD, jnp.float32)
    if shared:
        stack = jnp.stack([jnp.asarray(resid[s], jnp.float32) for s in sites])
        params, losses = _trainer(readout.apply, recipe, False)(readout.state, stack, final, rows)
        return jax.tree.map(np.asarray, params), np.asarray(losses)
    chunk = recipe.sites_per_program or len(sites)
    parts = []
    for lo in tqdm(range(0, len(sites), chunk), desc="tuned lenses", disable=not progress):
        stack = jnp.stack([jnp.asarray(resid[s], jnp.float32) for s in sites[lo : lo + chunk]])
        parts.append(jax.tree.map(np.asarray, _trainer(readout.apply, recipe, True)(readout.state, stack, final, rows)))
    params = {k: np.concatenate([p[0][k] for p in parts]) for k in ("A", "b")}
    return params, np.concatenate([p[1] for p in parts])
