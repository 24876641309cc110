"""One position at a time through a pretrained decoder, against a key/value cache of the positions before it.

`decode_step` runs `V` variants of the same position side by side (`x [B, V, D]`): they share the cache of
the prefix and each attends to the prefix and to itself. Sampling uses one variant and writes the cache; the
function-vector analysis runs many variants of a prompt's last position, each with some attention heads'
outputs (`z`, before the output projection) replaced by given values (`patch`), or a vector added to the
residual stream at some block's input (`add`).
"""

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from models.arrays import lift
from models.pretrained.layers import apply_rotary, rotary_cos_sin


def empty_cache(cfg, batch: int, length: int):
    """Keys and values `[layers, B, length, n_kv_heads, d_head]`, zeros."""
    zeros = jnp.zeros((cfg.n_layers, batch, length, cfg.n_kv_heads, cfg.d_head), jnp.float32)
    return zeros, zeros


def _heads(attn, x_BxVxD, W, b, heads):
    y = x_BxVxD @ W[...]
    if b is not None:
        y = y + lift(b[...], y)
    return y.reshape(*x_BxVxD.shape[:2], heads, attn.cfg.d_head)


def _attend(attn, x_BxVxD, pos, cache_K, cache_V):
    """Per-head outputs `z [B, V, H, Dh]` of position `pos` (keys: cache positions `< pos`, then itself) and
    this position's own key and value `[B, V, K, Dh]`."""
    cfg = attn.cfg
    q = _heads(attn, x_BxVxD, attn.W_Q, attn.b_Q, cfg.n_heads)
    k = _heads(attn, x_BxVxD, attn.W_K, attn.b_K, cfg.n_kv_heads)
    v = _heads(attn, x_BxVxD, attn.W_V, attn.b_V, cfg.n_kv_heads)
    T = cache_K.shape[1]
    if cfg.rotary_dim:
        cos, sin = (
            jax.lax.dynamic_slice_in_dim(a, pos, 1) for a in rotary_cos_sin(T + 1, cfg.rotary_dim, cfg.rope_theta)
        )
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
    B, V, H, Dh = q.shape
    K = cfg.n_kv_heads
    q_BxVxKxGxDh = q.reshape(B, V, K, H // K, Dh) / np.float32(np.sqrt(Dh))
    past = jnp.einsum("bvkgd,btkd->bvkgt", q_BxVxKxGxDh, cache_K)
    past = jnp.where(jnp.arange(T)[None, None, None, None, :] < pos, past, -jnp.inf)
    own = jnp.einsum("bvkgd,bvkd->bvkg", q_BxVxKxGxDh, k)[..., None]
    p = jax.nn.softmax(jnp.concatenate([past, own], axis=-1), axis=-1)
    z = jnp.einsum("bvkgt,btkd->bvkgd", p[..., :T], cache_V) + p[..., T:] * v[:, :, :, None]
    return z.reshape(B, V, H, Dh), k, v


def decode_step(model, token_B, pos, caches, variants: int = 1, patch=None, add=None, write: bool = True):
    """Logits `[B, V, vocab]` of `variants` copies of position `pos` holding `token_B`, and the caches with
    variant 0's keys and values written at `pos` (`caches = (K, V)`, each `[layers, B, T, K, Dh]`; with
    `write=False` the caches come back unchanged and need only hold the positions before `pos`).
    `patch = {"mask": [layers, V, H] bool, "value": [layers, H, Dh]}` replaces head `h`'s output in variant
    `v` at layer `l` by `value[l, h]` wherever `mask[l, v, h]`. `add = {"weight": [layers, V], "vector": [D]}`
    adds `weight[l, v] * vector` to variant `v`'s residual at the input of block `l`. The layers run under one
    scan over the model's stacked block weights."""
    cfg = model.config
    x = model.embed(token_B[:, None])
    if model.W_pos is not None:
        x = x + jax.lax.dynamic_slice_in_dim(model.W_pos[...], pos, 1)[None]
    x = jnp.broadcast_to(x, (x.shape[0], variants, x.shape[2]))
    no_patch = {
        "mask": jnp.zeros((cfg.n_layers, variants, cfg.n_heads), bool),
        "value": jnp.zeros((cfg.n_layers, cfg.n_heads, cfg.d_head), jnp.float32),
    }
    no_add = {"weight": jnp.zeros((cfg.n_layers, variants), jnp.float32), "vector": jnp.zeros(cfg.d_model)}
    patch, add = patch or no_patch, add or no_add
    graphdef, stacked = nnx.split(model.blocks)

    def layer(x, per_layer):
        weights, K, V, mask_VxH, value_HxDh, weight_V = per_layer
        block = nnx.merge(graphdef, weights)
        x = x + weight_V[None, :, None] * add["vector"][None, None]
        z, k, v = _attend(block.attn, block.ln1(x), pos, K, V)
        z = jnp.where(mask_VxH[None, :, :, None], value_HxDh[None, None], z)
        mid = x + block.attn.output(z)
        x = mid + block.mlp(block.ln2(x if block.parallel else mid))
        if write:
            K = jax.lax.dynamic_update_slice_in_dim(K, k[:, :1], pos, axis=1)
            V = jax.lax.dynamic_update_slice_in_dim(V, v[:, :1], pos, axis=1)
        return x, (K, V)

    x, caches = jax.lax.scan(layer, x, (stacked, *caches, patch["mask"], patch["value"], add["weight"]))
    return model.unembed(model.ln_final(x)), caches


def prefill(model, tokens_BxP):
    """The caches `[layers, B, P, K, Dh]` of every position of `tokens_BxP` (run one position at a time)."""
    B, P = tokens_BxP.shape

    def step(caches, pos):
        return decode_step(model, tokens_BxP[:, pos], pos, caches)[1], None

    return jax.lax.scan(step, empty_cache(model.config, B, P), jnp.arange(P))[0]
