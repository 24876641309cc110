"""The one model interface interventions use: `model(tokens, capture, replace)`, site names, `config.n_layers`.

A toy `models.Transformer` and a pretrained module go through the same code: NNX modules are split once and
jitted per (structure, captured sites); the replaced site's name is part of the jitted argument's structure,
so each site compiles once and every batch of that shape reuses it.
"""

from functools import lru_cache

import jax
import numpy as np
from flax import nnx

from analysis.regression.activations import stream_sites
from models.config import ConfigError


def residual_stream(model) -> tuple[str, ...]:
    """Every residual-stream site in forward order: `embed`, each block's `resid_pre`, `resid_mid`,
    `resid_post`, then `ln_final` (`blocks.{l+1}.resid_pre` is the same tensor as `blocks.{l}.resid_post`)."""
    n_layers = _n_layers(model)
    blocks = [f"blocks.{layer}.{s}" for layer in range(n_layers) for s in ("resid_pre", "resid_mid", "resid_post")]
    return ("embed", *blocks, "ln_final")


def _n_layers(model) -> int:
    n_layers = getattr(getattr(model, "config", None), "n_layers", None)
    if n_layers is None:
        raise ConfigError("interventions need a model with .config.n_layers (the shared model interface)")
    return int(n_layers)


def default_sites(model) -> tuple[str, ...]:
    """The distinct residual states (`blocks.{l+1}.resid_pre` left out): the patching curve's x axis."""
    _n_layers(model)
    return stream_sites(model.config, "residual")


def check_sites(model, sites) -> tuple[str, ...]:
    """`sites` ("residual" or a list of names) as a tuple in forward order; an unknown name is a ConfigError."""
    if isinstance(sites, str) and sites == "residual":
        return default_sites(model)
    sites = (sites,) if isinstance(sites, str) else tuple(sites)
    valid = residual_stream(model)
    unknown = [s for s in sites if s not in valid]
    if unknown or not sites:
        raise ConfigError(
            f"site {unknown[0] if unknown else sites!r} is not a residual site of this model: "
            f"use 'residual' or names from {list(valid)}"
        )
    return tuple(s for s in valid if s in set(sites))


@lru_cache(maxsize=64)
def _compiled(graphdef, capture: tuple[str, ...]):
    def run(state, tokens_BxL, replace):
        logits, acts = nnx.merge(graphdef, state)(tokens_BxL, capture=capture, replace=replace)
        return jax.nn.log_softmax(logits.astype(np.float32), axis=-1), acts

    return jax.jit(run)


def forward(model, capture=()):
    """`(tokens_BxL, replace={site: [B, L, D]}) -> (log-probabilities [B, L, V], {site: [B, L, D]})`, jitted."""
    capture = tuple(capture)
    if isinstance(model, nnx.Module):
        graphdef, state = nnx.split(model)
        run = _compiled(graphdef, capture)
        return lambda tokens_BxL, replace=None: run(state, tokens_BxL, dict(replace or {}))

    @jax.jit
    def run_plain(tokens_BxL, replace):
        logits, acts = model(tokens_BxL, capture=capture, replace=replace)
        return jax.nn.log_softmax(logits.astype(np.float32), axis=-1), acts

    return lambda tokens_BxL, replace=None: run_plain(tokens_BxL, dict(replace or {}))


def padded_chunks(num: int, batch_size: int):
    """`(start, stop, index)` per chunk; `index` has `batch_size` rows (the last ones repeated) so every chunk
    has one compiled shape."""
    for start in range(0, num, batch_size):
        stop = min(start + batch_size, num)
        index = np.arange(start, start + batch_size)
        yield start, stop, np.minimum(index, stop - 1)
