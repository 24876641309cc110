"""Run a model over a prefix set in fixed-size batches and read each distinct prefix's activation at each site."""

from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from analysis.regression.prefixes import PrefixSet

DEFAULT_BATCH = 1024  # small batches keep a CPU forward pass in cache (measured fastest on 2 cores)


def stream_sites(config, which: str = "residual") -> tuple[str, ...]:
    """Site names for a model config.

    `residual`: the distinct states of the residual stream, in order - `embed` (token embedding alone),
    `blocks.0.resid_pre`, then `resid_mid` and `resid_post` of every block, then `ln_final`
    (`blocks.{l+1}.resid_pre` is left out: it is the same tensor as `blocks.{l}.resid_post`).
    `resid_post`: the output of each block.
    """
    layers = range(config.n_layers)
    if which == "residual":
        middle = [f"blocks.{layer}.{s}" for layer in layers for s in ("resid_mid", "resid_post")]
        return ("embed", "blocks.0.resid_pre", *middle, "ln_final")
    if which == "resid_post":
        return tuple(f"blocks.{layer}.resid_post" for layer in layers)
    raise ValueError(f"unknown site set {which!r}: use 'residual', 'resid_post' or a list of site names")


def resolve_sites(model, sites) -> tuple[str, ...]:
    """A tuple of site names from a name, a named set (`residual`, `resid_post`), or a list."""
    if isinstance(sites, str):
        config = getattr(model, "config", None)
        if sites in ("residual", "resid_post"):
            if config is None:
                raise ValueError(f"sites={sites!r} needs a model with a .config; pass site names instead")
            return stream_sites(config, sites)
        return (sites,)
    sites = tuple(sites)
    if not sites or len(set(sites)) != len(sites):
        raise ValueError(f"sites must be a non-empty list of distinct names, got {list(sites)}")
    return sites


@lru_cache(maxsize=16)
def _compiled(graphdef, sites: tuple[str, ...]):
    def run(state, tokens_BxL):
        return nnx.merge(graphdef, state)(tokens_BxL, capture=sites)[1]

    return jax.jit(run)


def forward_fn(model, sites: tuple[str, ...]):
    """`tokens_BxL -> {site: acts_BxLxD}`; NNX modules are split once and jitted (cached per structure)."""
    if isinstance(model, nnx.Module):
        graphdef, state = nnx.split(model)
        run = _compiled(graphdef, sites)
        return lambda tokens_BxL: run(state, tokens_BxL)
    return lambda tokens_BxL: model(tokens_BxL, capture=sites)[1]


def collect_activations(model, prefixes: PrefixSet, sites, batch_size: int = DEFAULT_BATCH) -> dict[str, np.ndarray]:
    """`{site: acts [N, D] float32}`: the activation of each distinct prefix, row-aligned with `prefixes`.

    `model(tokens_BxL, capture=sites) -> (logits, {site: [B, L, D]})`. Sequences run in batches of
    `batch_size` (the last one padded, so one compiled shape serves all); memory is bounded by the batch.
    """
    sites = resolve_sites(model, sites)
    forward = forward_fn(model, sites)
    inputs = prefixes.inputs_MxL
    order = np.argsort(prefixes.sequence_index, kind="stable")
    sorted_seq = prefixes.sequence_index[order]
    out = {}
    for start in range(0, len(inputs), batch_size):
        batch = inputs[start : start + batch_size]
        padded = np.concatenate([batch, np.repeat(batch[-1:], batch_size - len(batch), axis=0)])
        acts = forward(jnp.asarray(padded))
        lo, hi = np.searchsorted(sorted_seq, [start, start + len(batch)])
        rows = order[lo:hi]
        seq, pos = prefixes.sequence_index[rows] - start, prefixes.positions[rows]
        for site in sites:
            block = np.asarray(acts[site])
            if site not in out:
                out[site] = np.empty((prefixes.num_prefixes, block.shape[-1]), np.float32)
            out[site][rows] = block[seq, pos]
    return out
