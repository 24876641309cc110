"""Sampling continuations from a pretrained decoder, one token per step with a key/value cache.

The cached step reuses the model's own layers (norms, projections, rotary, MLP); it agrees with the full
forward pass on the sampled sequence (tested), so samples are the model's own distribution.
"""

from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from models.config import ConfigError
from models.pretrained.layers import apply_rotary, rotary_cos_sin


def _attend_cached(attn, x_Bx1xD, pos, cache_K, cache_V):
    """One position of grouped-query attention against the cache `[B, T, K, Dh]` (keys up to `pos`)."""
    cfg = attn.cfg
    q = attn._project(x_Bx1xD, attn.W_Q, attn.b_Q, cfg.n_heads)
    k = attn._project(x_Bx1xD, attn.W_K, attn.b_K, cfg.n_kv_heads)
    v = attn._project(x_Bx1xD, attn.W_V, attn.b_V, cfg.n_kv_heads)
    T = cache_K.shape[1]
    if cfg.rotary_dim:
        cos_TxR, sin_TxR = rotary_cos_sin(T, cfg.rotary_dim, cfg.rope_theta)
        cos = jax.lax.dynamic_slice_in_dim(cos_TxR, pos, 1)
        sin = jax.lax.dynamic_slice_in_dim(sin_TxR, pos, 1)
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
    cache_K = jax.lax.dynamic_update_slice_in_dim(cache_K, k, pos, axis=1)
    cache_V = jax.lax.dynamic_update_slice_in_dim(cache_V, v, pos, axis=1)
    B, K, Dh = q.shape[0], cfg.n_kv_heads, cfg.d_head
    q_BxKxGxDh = q.reshape(B, K, cfg.n_heads // K, Dh)
    scores = jnp.einsum("bkgd,btkd->bkgt", q_BxKxGxDh, cache_K) / np.sqrt(Dh)
    scores = jnp.where(jnp.arange(T)[None, None, None, :] <= pos, scores, -jnp.inf)
    z = jnp.einsum("bkgt,btkd->bkgd", jax.nn.softmax(scores, axis=-1), cache_V).reshape(B, 1, cfg.n_heads * Dh)
    out = z @ attn.W_O[...]
    if attn.b_O is not None:
        out = out + attn.b_O[...]
    return out, cache_K, cache_V


def decode_step(model, token_B, pos, caches):
    """Logits `[B, V]` at position `pos` given the token there, and the updated caches
    `(K, V)` each `[layers, B, T, n_kv_heads, d_head]`."""
    x = model.embed(token_B[:, None])
    if model.W_pos is not None:
        x = x + jax.lax.dynamic_slice_in_dim(model.W_pos[...], pos, 1)[None]
    Ks, Vs = caches
    for layer, block in enumerate(model.blocks):
        attn_out, K, V = _attend_cached(block.attn, block.ln1(x), pos, Ks[layer], Vs[layer])
        Ks, Vs = Ks.at[layer].set(K), Vs.at[layer].set(V)
        mid = x + attn_out
        x = mid + block.mlp(block.ln2(x if block.parallel else mid))
    return model.unembed(model.ln_final(x))[:, 0], (Ks, Vs)


@lru_cache(maxsize=8)
def _sampler(graphdef, length: int):
    def run(state, tokens_BxT, prompt_len, key, temperature):
        model = nnx.merge(graphdef, state)
        cfg = model.config
        B = tokens_BxT.shape[0]
        empty = jnp.zeros((cfg.n_layers, B, length, cfg.n_kv_heads, cfg.d_head), jnp.float32)

        def step(carry, pos):
            tokens, caches = carry
            logits, caches = decode_step(model, tokens[:, pos], pos, caches)
            drawn = jax.random.categorical(jax.random.fold_in(key, pos), logits / temperature, axis=-1)
            keep = pos + 1 < prompt_len
            tokens = tokens.at[:, pos + 1].set(jnp.where(keep, tokens[:, pos + 1], drawn.astype(tokens.dtype)))
            return (tokens, caches), logits

        (tokens, _), logits_TxBxV = jax.lax.scan(step, (tokens_BxT, (empty, empty)), jnp.arange(length - 1))
        return tokens, logits_TxBxV.transpose(1, 0, 2)

    return jax.jit(run)


def sample_continuations(model, prompts_BxP, length: int, key, temperature: float = 1.0,
                         return_logits: bool = False):
    """Token ids `[B, length]`: each prompt followed by tokens drawn from the model's own next-token
    distribution at `temperature` (1 = the model's distribution). With `return_logits`, also the logits
    `[B, length - 1, V]` the draws came from (position `t` predicts token `t + 1`)."""
    prompts = np.asarray(prompts_BxP, np.int32)
    if prompts.ndim != 2 or prompts.shape[1] < 1:
        raise ConfigError(f"prompts must be [batch, >= 1 token], got shape {prompts.shape}")
    if not prompts.shape[1] <= length <= model.config.n_ctx:
        raise ConfigError(f"length={length} is invalid: between the prompt length {prompts.shape[1]} "
                          f"and the model's context {model.config.n_ctx}")
    if not temperature > 0:
        raise ConfigError(f"temperature={temperature} is invalid: must be > 0")
    tokens = np.zeros((prompts.shape[0], length), np.int32)
    tokens[:, :prompts.shape[1]] = prompts
    graphdef, state = nnx.split(model)
    out, logits = _sampler(graphdef, length)(state, jnp.asarray(tokens), prompts.shape[1], key,
                                             jnp.float32(temperature))
    return (np.asarray(out), np.asarray(logits)) if return_logits else np.asarray(out)
