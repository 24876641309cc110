"""Building blocks shared by the pretrained decoders: norms, rotary embedding, grouped-query attention, MLPs.

Weights arrive as numpy arrays in this package's layout (`x @ W`, so matrices are `[in, out]`);
a block reads them from a dict and a missing key is a loader bug, so it raises KeyError.
"""

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from models.arrays import lift
from models.pretrained.config import PretrainedConfig

ACTIVATIONS = {
    "silu": jax.nn.silu,
    "gelu": lambda x: jax.nn.gelu(x, approximate=False),
    "gelu_tanh": lambda x: jax.nn.gelu(x, approximate=True),
}


def param(array):
    """An NNX parameter holding a float32 copy of `array`."""
    return nnx.Param(jnp.asarray(np.asarray(array, np.float32)))


def optional_param(weights: dict, key: str):
    """The parameter under `key`, or None when the checkpoint has none."""
    return param(weights[key]) if weights.get(key) is not None else None


class Norm(nnx.Module):
    """RMSNorm (`x / rms(x) * w`) or LayerNorm (`(x - mean) / std * w + b`) over the last axis."""

    def __init__(self, cfg: PretrainedConfig, weights: dict):
        self.rms = cfg.norm == "rmsnorm"
        self.eps = cfg.norm_eps
        self.w = param(weights["w"])
        self.b = None if self.rms else param(weights["b"])

    def __call__(self, x_BxLxD):
        if self.rms:
            return (
                x_BxLxD
                * jax.lax.rsqrt((x_BxLxD * x_BxLxD).mean(-1, keepdims=True) + self.eps)
                * lift(self.w[...], x_BxLxD)
            )
        centred = x_BxLxD - x_BxLxD.mean(-1, keepdims=True)
        var = (centred * centred).mean(-1, keepdims=True)
        return centred * jax.lax.rsqrt(var + self.eps) * lift(self.w[...], centred) + lift(self.b[...], centred)


def rotary_cos_sin(L: int, rotary_dim: int, theta: float):
    """`cos, sin: [L, rotary_dim]` for the half-split rotary layout (frequencies repeated twice)."""
    inv_freq_R2 = 1.0 / theta ** (np.arange(0, rotary_dim, 2, dtype=np.float32) / np.float32(rotary_dim))
    angles_LxR2 = jnp.arange(L, dtype=jnp.float32)[:, None] * jnp.asarray(inv_freq_R2, jnp.float32)[None]
    angles_LxR = jnp.concatenate([angles_LxR2, angles_LxR2], axis=-1)
    return jnp.cos(angles_LxR), jnp.sin(angles_LxR)


def apply_rotary(x_BxLxHxDh, cos_LxR, sin_LxR):
    """Rotate the first R dims of each head (pairs `i` and `i + R/2`); the rest pass through."""
    R = cos_LxR.shape[-1]
    rot, rest = x_BxLxHxDh[..., :R], x_BxLxHxDh[..., R:]
    first, second = rot[..., : R // 2], rot[..., R // 2 :]
    rotated = jnp.concatenate([-second, first], axis=-1)
    cos, sin = cos_LxR[None, :, None], sin_LxR[None, :, None]
    return jnp.concatenate([rot * cos + rotated * sin, rest], axis=-1)


def causal_attention(q_BxLxHxDh, k_BxLxKxDh, v_BxLxKxDh, with_pattern: bool = False):
    """`softmax(q k^T / sqrt(Dh)) v` under a causal mask, query head `h` reading key/value head `h // (H / K)`.

    Returns `z [B, L, H, Dh]` and the pattern `[B, H, L, L]` (zero above the diagonal) or None.
    Without the pattern it is `jax.nn.dot_product_attention` (XLA on a CPU; cuDNN where the GPU and dtype
    allow); with it, one explicit masked product whose softmax is also returned."""
    if not with_pattern:
        return jax.nn.dot_product_attention(q_BxLxHxDh, k_BxLxKxDh, v_BxLxKxDh, is_causal=True), None
    B, L, H, Dh = q_BxLxHxDh.shape
    K = k_BxLxKxDh.shape[2]
    q_BxLxKxGxDh = q_BxLxHxDh.reshape(B, L, K, H // K, Dh)
    scores_BxKxGxLxL = jnp.einsum("bqkgd,btkd->bkgqt", q_BxLxKxGxDh, k_BxLxKxDh) / np.float32(np.sqrt(Dh))
    causal_1x1x1xLxL = np.tril(np.ones((L, L), bool))[None, None, None]
    pattern_BxKxGxLxL = jax.nn.softmax(jnp.where(causal_1x1x1xLxL, scores_BxKxGxLxL, -jnp.inf), axis=-1)
    z_BxLxKxGxDh = jnp.einsum("bkgqt,btkd->bqkgd", pattern_BxKxGxLxL, v_BxLxKxDh)
    return z_BxLxKxGxDh.reshape(B, L, H, Dh), pattern_BxKxGxLxL.reshape(B, H, L, L)


class Attention(nnx.Module):
    """Causal grouped-query attention: query head `h` reads key/value head `h // (H / H_kv)`.

    `W_Q: [D, H*Dh]`, `W_K, W_V: [D, H_kv*Dh]`, `W_O: [H*Dh, D]`, optional biases; rotary on the
    first `rotary_dim` dims of each query and key head when the config has it."""

    def __init__(self, cfg: PretrainedConfig, weights: dict):
        self.cfg = cfg
        self.W_Q, self.W_K, self.W_V, self.W_O = (param(weights[k]) for k in ("W_Q", "W_K", "W_V", "W_O"))
        self.b_Q, self.b_K, self.b_V, self.b_O = (optional_param(weights, k) for k in ("b_Q", "b_K", "b_V", "b_O"))

    def _project(self, x_BxLxD, W, b, heads):
        y = x_BxLxD @ W[...]
        if b is not None:
            y = y + lift(b[...], y)
        return y.reshape(*x_BxLxD.shape[:2], heads, self.cfg.d_head)

    def heads(self, x_BxLxD, with_pattern: bool = False):
        """Per-head outputs `z [B, L, H, Dh]` (before the output projection) and the pattern or None."""
        cfg = self.cfg
        L = x_BxLxD.shape[1]
        q_BxLxHxDh = self._project(x_BxLxD, self.W_Q, self.b_Q, cfg.n_heads)
        k_BxLxKxDh = self._project(x_BxLxD, self.W_K, self.b_K, cfg.n_kv_heads)
        v_BxLxKxDh = self._project(x_BxLxD, self.W_V, self.b_V, cfg.n_kv_heads)
        if cfg.rotary_dim:
            cos, sin = rotary_cos_sin(L, cfg.rotary_dim, cfg.rope_theta)
            q_BxLxHxDh, k_BxLxKxDh = apply_rotary(q_BxLxHxDh, cos, sin), apply_rotary(k_BxLxKxDh, cos, sin)
        return causal_attention(q_BxLxHxDh, k_BxLxKxDh, v_BxLxKxDh, with_pattern)

    def output(self, z_BxLxHxDh):
        """The output projection of the per-head outputs: `attn_out [B, L, D]`."""
        out_BxLxD = z_BxLxHxDh.reshape(*z_BxLxHxDh.shape[:2], -1) @ self.W_O[...]
        return out_BxLxD + lift(self.b_O[...], out_BxLxD) if self.b_O is not None else out_BxLxD


class MLP(nnx.Module):
    """Gated (`W_out (act(x W_gate) * x W_in)`, SwiGLU) or plain (`W_out act(x W_in + b_in) + b_out`)."""

    def __init__(self, cfg: PretrainedConfig, weights: dict):
        self.act = ACTIVATIONS[cfg.act_fn]
        self.W_gate = param(weights["W_gate"]) if cfg.gated_mlp else None
        self.W_in, self.W_out = param(weights["W_in"]), param(weights["W_out"])
        self.b_in, self.b_out = optional_param(weights, "b_in"), optional_param(weights, "b_out")

    def __call__(self, x_BxLxD):
        hidden = x_BxLxD @ self.W_in[...]
        if self.b_in is not None:
            hidden = hidden + lift(self.b_in[...], hidden)
        hidden = self.act(x_BxLxD @ self.W_gate[...]) * hidden if self.W_gate is not None else self.act(hidden)
        out = hidden @ self.W_out[...]
        return out + lift(self.b_out[...], out) if self.b_out is not None else out
