"""The tuned lens trained on a stream of text windows: each step runs the model on fresh windows, captures
the residual sites, updates every translator in one jitted step, and discards the activations.

Loss: KL(model || lens) at the same position over the full vocabulary, or over a fixed token subset
(`vocab_ids`; a cheaper approximation whose error the caller measures against the full readout). Each
translator has its own optimiser state (the global-norm clip is per translator), as in `train_translators`.
Optionally the same pass accumulates the future lens's least-squares statistics (`analysis.lenses.future_stats`).
"""

from dataclasses import dataclass, field
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from tqdm.auto import tqdm

from analysis.lenses.future_stats import step_statistics
from analysis.lenses.metrics import kl_from_log_probs
from analysis.lenses.recipe import Recipe
from analysis.lenses.stream_plan import StreamPlan
from analysis.lenses.translator import identity, translate


def readout_log_probs(model, h_NxD, vocab_ids=None):
    """Log-softmax (float32) of the model's readout, over the whole vocabulary or only `vocab_ids`."""
    logits = model.logits_from_residual(h_NxD) if vocab_ids is None else model.logits_from_residual(h_NxD, vocab_ids)
    return jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)


@lru_cache(maxsize=16)
def _step_program(graphdef, sites: tuple, recipe: Recipe, max_horizon: int | None, subset: bool):
    """Jitted `(state, params, opt_state, tokens_MxBxL, vocab) -> (params, opt_state, losses_S, stats)`."""
    opt = recipe.optax()

    def one_batch(model, params, tokens_BxL, vocab):
        _, acts = model(tokens_BxL, capture=sites)
        h_SxBxLxD = jnp.stack([acts[s] for s in sites[:-1]]).astype(jnp.float32)
        final_BxLxD = acts[sites[-1]].astype(jnp.float32)
        _, B, L, D = h_SxBxLxD.shape
        rows = lambda a: a[..., :-1, :].reshape(*a.shape[:-3], B * (L - 1), D)
        ref = jax.lax.stop_gradient(readout_log_probs(model, rows(final_BxLxD), vocab))

        def per_site(args):
            p, h_NxD = args
            return jax.value_and_grad(
                lambda q: kl_from_log_probs(ref, readout_log_probs(model, translate(q, h_NxD), vocab)).mean()
            )(p)

        losses_S, grads = jax.lax.map(per_site, (params, rows(h_SxBxLxD)))
        stats = None
        if max_horizon is not None:
            stats = step_statistics(jnp.concatenate([h_SxBxLxD, final_BxLxD[None]]), final_BxLxD, max_horizon)
        return losses_S, grads, stats

    def program(state, params, opt_state, tokens_MxBxL, vocab):
        model = nnx.merge(graphdef, state)
        vocab = vocab if subset else None

        def micro(total, tokens_BxL):
            out = one_batch(model, params, tokens_BxL, vocab)
            return jax.tree.map(jnp.add, total, out), None

        zero = jax.tree.map(
            lambda s: jnp.zeros(s.shape, s.dtype),
            jax.eval_shape(lambda t: one_batch(model, params, t, vocab), tokens_MxBxL[0]),
        )
        (losses_S, grads, stats), _ = jax.lax.scan(micro, zero, tokens_MxBxL)
        M = tokens_MxBxL.shape[0]
        grads = jax.tree.map(lambda g: g / M, grads)
        updates, opt_state = jax.vmap(opt.update)(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, losses_S / M, stats

    return jax.jit(program)


@dataclass
class StreamedLens:
    """Translators for `sites` (`{"A": [S, D, D], "b": [S, D]}`; the final site's is the identity), training
    losses `[steps, S - 1]`, tokens read, the held-out curve, and the future lens's statistics (or None)."""

    sites: tuple
    params: dict
    losses: np.ndarray
    tokens_seen: int
    curve: list = field(default_factory=list)
    future_stats: dict | None = None


def train_streamed_lens(
    model,
    source,
    sites,
    plan: StreamPlan = StreamPlan(),
    recipe: Recipe = Recipe(),
    vocab_ids=None,
    future_horizon: int | None = None,
    evaluate=None,
    progress: bool = False,
) -> StreamedLens:
    """Train tuned-lens translators for `sites[:-1]` against the readout of `sites[-1]` (the final residual).

    `source(step) -> tokens [plan.windows_per_step, plan.window]`; `recipe` supplies the optimiser (its
    `steps` is replaced by `plan.steps`). `evaluate(params) -> dict`, when given, is called at
    `plan.curve_steps()` and its results (with `step` and `tokens`) form the curve. `future_horizon=H`
    also accumulates the future lens's statistics for horizons 0..H over all sites.
    """
    sites = tuple(sites)
    recipe = Recipe(**{**recipe.__dict__, "steps": plan.steps})
    graphdef, state = nnx.split(model)
    D = model.config.d_model
    subset = vocab_ids is not None
    program = _step_program(graphdef, sites, recipe, future_horizon, subset)
    params = identity(len(sites) - 1, D)
    opt_state = jax.vmap(recipe.optax().init)(params)
    vocab = jnp.asarray(vocab_ids if subset else np.zeros(1), jnp.int32)
    curve_at, curve, losses, totals = set(plan.curve_steps()), [], [], None

    def checkpoint(step):
        if evaluate is not None and step in curve_at:
            curve.append({"step": step, "tokens": step * plan.tokens_per_step, **evaluate(with_final(params, D))})

    checkpoint(0)
    for step in tqdm(range(plan.steps), desc="streamed lens", disable=not progress):
        tokens = np.asarray(source(step), np.int32).reshape(plan.micro_batches, -1, plan.window)
        params, opt_state, loss_S, stats = program(state, params, opt_state, jnp.asarray(tokens), vocab)
        losses.append(np.asarray(loss_S))
        if stats is not None:
            stats = jax.tree.map(lambda a: np.asarray(a, np.float64), stats)
            totals = stats if totals is None else jax.tree.map(np.add, totals, stats)
        checkpoint(step + 1)
    return StreamedLens(
        sites,
        jax.tree.map(np.asarray, with_final(params, D)),
        np.stack(losses),
        plan.steps * plan.tokens_per_step,
        curve,
        totals,
    )


def with_final(params: dict, dim: int) -> dict:
    """The translators with an identity appended for the final site (its readout is the model's output)."""
    return jax.tree.map(lambda a, z: jnp.concatenate([a, z]), params, identity(1, dim))
