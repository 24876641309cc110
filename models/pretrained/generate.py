"""Sampling continuations from a pretrained decoder, one token per step with a key/value cache
(`models.pretrained.cached`); the cached logits agree with the full forward pass on the sampled sequence
(tested), so the samples are the model's own distribution."""

from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from models.config import ConfigError
from models.pretrained.cached import decode_step, empty_cache


@lru_cache(maxsize=8)
def _sampler(graphdef, length: int):
    def run(state, tokens_BxT, prompt_len, key, temperature):
        model = nnx.merge(graphdef, state)

        def step(carry, pos):
            tokens, caches = carry
            logits, caches = decode_step(model, tokens[:, pos], pos, caches)
            logits = logits[:, 0]
            drawn = jax.random.categorical(jax.random.fold_in(key, pos), logits / temperature, axis=-1)
            keep = pos + 1 < prompt_len
            tokens = tokens.at[:, pos + 1].set(jnp.where(keep, tokens[:, pos + 1], drawn.astype(tokens.dtype)))
            return (tokens, caches), logits

        start = (tokens_BxT, empty_cache(model.config, tokens_BxT.shape[0], length))
        (tokens, _), logits_TxBxV = jax.lax.scan(step, start, jnp.arange(length - 1))
        return tokens, logits_TxBxV.transpose(1, 0, 2)

    return jax.jit(run)


def sample_continuations(model, prompts_BxP, length: int, key, temperature: float = 1.0, return_logits: bool = False):
    """Token ids `[B, length]`: each prompt followed by tokens drawn from the model's own next-token
    distribution at `temperature` (1 = the model's distribution). With `return_logits`, also the logits
    `[B, length - 1, V]` the draws came from (position `t` predicts token `t + 1`)."""
    prompts = np.asarray(prompts_BxP, np.int32)
    if prompts.ndim != 2 or prompts.shape[1] < 1:
        raise ConfigError(f"prompts must be [batch, >= 1 token], got shape {prompts.shape}")
    if not prompts.shape[1] <= length <= model.config.n_ctx:
        raise ConfigError(
            f"length={length} is invalid: between the prompt length {prompts.shape[1]} "
            f"and the model's context {model.config.n_ctx}"
        )
    if not temperature > 0:
        raise ConfigError(f"temperature={temperature} is invalid: must be > 0")
    tokens = np.zeros((prompts.shape[0], length), np.int32)
    tokens[:, : prompts.shape[1]] = prompts
    graphdef, state = nnx.split(model)
    out, logits = _sampler(graphdef, length)(
        state, jnp.asarray(tokens), prompts.shape[1], key, jnp.float32(temperature)
    )
    return (np.asarray(out), np.asarray(logits)) if return_logits else np.asarray(out)
