"""GPT-style decoder (Flax NNX) whose residual stream can be read at named sites.

Sites (TransformerLens names, without the `hook_` prefix):
  `embed` (token embedding), `pos_embed`, `blocks.{l}.resid_pre`, `blocks.{l}.attn_out`,
  `blocks.{l}.resid_mid`, `blocks.{l}.mlp_out`, `blocks.{l}.resid_post`, `ln_final`,
  and `blocks.{l}.attn.pattern` `[B, H, L_query, L_key]`.
`blocks.0.resid_pre = embed + pos_embed`, `resid_mid = resid_pre + attn_out`,
`resid_post = resid_mid + mlp_out`, `blocks.{l+1}.resid_pre = blocks.{l}.resid_post`.
`replace={site: array}` substitutes a residual site's tensor and the forward pass continues from it.
"""

import math

import jax
import jax.numpy as jnp
from flax import nnx

from models.arrays import lift
from models.config import ModelConfig

_ACTIVATIONS = {
    "relu": jax.nn.relu,
    "gelu": lambda x: jax.nn.gelu(x, approximate=False),
    "gelu_tanh": lambda x: jax.nn.gelu(x, approximate=True),
}


def residual_sites(cfg: ModelConfig) -> tuple[str, ...]:
    """Residual-stream sites in forward order (each distinct tensor once, plus block inputs)."""
    sites = ["embed", "pos_embed"]
    for layer in range(cfg.n_layers):
        sites += [f"blocks.{layer}.{s}" for s in ("resid_pre", "attn_out", "resid_mid", "mlp_out", "resid_post")]
    return tuple(sites + ["ln_final"])


def site_names(cfg: ModelConfig, patterns: bool = True) -> tuple[str, ...]:
    """Every capturable site: the residual stream (what `capture="all"` means) and the attention patterns."""
    extra = tuple(f"blocks.{layer}.attn.pattern" for layer in range(cfg.n_layers)) if patterns else ()
    return residual_sites(cfg) + extra


def resolve_capture(cfg: ModelConfig, capture) -> frozenset:
    """`capture` as a set of site names; unknown names are an error that lists the valid ones."""
    if capture is None:
        return frozenset()
    if isinstance(capture, str):
        capture = residual_sites(cfg) if capture == "all" else (capture,)
    wanted = frozenset(capture)
    unknown = sorted(wanted - set(site_names(cfg)))
    if unknown:
        raise KeyError(f"unknown site(s) {unknown}; valid sites are {list(site_names(cfg))} or 'all'")
    return wanted


def resolve_replace(cfg: ModelConfig, replace) -> dict:
    """`replace` as a dict of residual-site tensors; other names are an error that lists the valid ones."""
    replace = dict(replace or {})
    unknown = sorted(set(replace) - set(residual_sites(cfg)))
    if unknown:
        raise KeyError(f"cannot replace site(s) {unknown}; replaceable sites are {list(residual_sites(cfg))}")
    return replace


def _normal(rngs, shape, std):
    return nnx.Param(std * jax.random.normal(rngs.params(), shape, jnp.float32))


def _zeros(shape):
    return nnx.Param(jnp.zeros(shape, jnp.float32))


class LayerNorm(nnx.Module):
    """LayerNorm over the last axis (or the identity when the config has no normalization)."""

    def __init__(self, cfg: ModelConfig):
        self.enabled = cfg.normalization == "layernorm"
        self.eps = cfg.ln_eps
        if self.enabled:
            self.w = nnx.Param(jnp.ones((cfg.d_model,), jnp.float32))
            self.b = _zeros((cfg.d_model,))

    def __call__(self, x_BxLxD):
        if not self.enabled:
            return x_BxLxD
        mean = x_BxLxD.mean(-1, keepdims=True)
        centred = x_BxLxD - mean
        var = (centred * centred).mean(-1, keepdims=True)
        return centred * jax.lax.rsqrt(var + self.eps) * lift(self.w[...], centred) + lift(self.b[...], centred)


class Attention(nnx.Module):
    """Causal multi-head attention; `W_Q, W_K, W_V: [H, D, Dh]`, `W_O: [H, Dh, D]`.

    There is no key bias: it adds the same amount to every score of a query, which softmax ignores,
    so its gradient is zero and an adaptive optimiser would only amplify rounding noise in it.
    """

    def __init__(self, cfg: ModelConfig, rngs: nnx.Rngs):
        H, D, Dh = cfg.n_heads, cfg.d_model, cfg.d_head
        std = cfg.init_scale / math.sqrt(D)
        self.W_Q, self.W_K, self.W_V = (_normal(rngs, (H, D, Dh), std) for _ in range(3))
        self.b_Q, self.b_V = _zeros((H, Dh)), _zeros((H, Dh))
        self.W_O = _normal(rngs, (H, Dh, D), std)
        self.b_O = _zeros((D,))
        self.scale = 1.0 / math.sqrt(Dh)

    def __call__(self, x_BxLxD):
        B, L, D = x_BxLxD.shape
        H, Dh = self.W_Q.shape[0], self.W_Q.shape[2]
        W_Dx3HDh = jnp.concatenate(
            [w[...].transpose(1, 0, 2).reshape(D, H * Dh) for w in (self.W_Q, self.W_K, self.W_V)], axis=1
        )
        b_3HDh = jnp.concatenate(
            [self.b_Q[...].reshape(-1), jnp.zeros((H * Dh,), x_BxLxD.dtype), self.b_V[...].reshape(-1)]
        )
        qkv_BxLx3HDh = x_BxLxD @ W_Dx3HDh
        qkv_BxLx3xHxDh = (qkv_BxLx3HDh + lift(b_3HDh, qkv_BxLx3HDh)).reshape(B, L, 3, H, Dh)
        q_BxLxHxDh, k_BxLxHxDh, v_BxLxHxDh = (qkv_BxLx3xHxDh[:, :, i] for i in range(3))
        scores_BxHxQxK = jnp.einsum("bqhd,bkhd->bhqk", q_BxLxHxDh, k_BxLxHxDh) * self.scale
        causal_QxK = jnp.tril(jnp.ones((L, L), bool))
        scores_BxHxQxK = jnp.where(lift(causal_QxK, scores_BxHxQxK), scores_BxHxQxK, -jnp.inf)
        pattern_BxHxQxK = jax.nn.softmax(scores_BxHxQxK, axis=-1)
        z_BxLxHxDh = jnp.einsum("bhqk,bkhd->bqhd", pattern_BxHxQxK, v_BxLxHxDh)
        out_BxLxD = z_BxLxHxDh.reshape(B, L, H * Dh) @ self.W_O[...].reshape(H * Dh, D)
        out_BxLxD = out_BxLxD + lift(self.b_O[...], out_BxLxD)
        return out_BxLxD, pattern_BxHxQxK


class MLP(nnx.Module):
    """`W_out act(W_in x + b_in) + b_out`."""

    def __init__(self, cfg: ModelConfig, rngs: nnx.Rngs):
        std = cfg.init_scale / math.sqrt(cfg.d_model)
        self.W_in = _normal(rngs, (cfg.d_model, cfg.d_mlp), std)
        self.b_in = _zeros((cfg.d_mlp,))
        self.W_out = _normal(rngs, (cfg.d_mlp, cfg.d_model), std)
        self.b_out = _zeros((cfg.d_model,))
        self.act = _ACTIVATIONS[cfg.act_fn]

    def __call__(self, x_BxLxD):
        pre_BxLxM = x_BxLxD @ self.W_in[...]
        out_BxLxD = self.act(pre_BxLxM + lift(self.b_in[...], pre_BxLxM)) @ self.W_out[...]
        return out_BxLxD + lift(self.b_out[...], out_BxLxD)


class Block(nnx.Module):
    """Pre-norm block: `resid_mid = resid_pre + attn(ln1(resid_pre))`,
    `resid_post = resid_mid + mlp(ln2(resid_mid))`."""

    def __init__(self, cfg: ModelConfig, rngs: nnx.Rngs):
        self.ln1, self.ln2 = LayerNorm(cfg), LayerNorm(cfg)
        self.attn = Attention(cfg, rngs)
        self.mlp = MLP(cfg, rngs)

    def __call__(self, resid_pre_BxLxD, record):
        attn_out, pattern = self.attn(self.ln1(resid_pre_BxLxD))
        record("attn.pattern", pattern)
        attn_out = record("attn_out", attn_out)
        resid_mid = record("resid_mid", resid_pre_BxLxD + attn_out)
        mlp_out = record("mlp_out", self.mlp(self.ln2(resid_mid)))
        return record("resid_post", resid_mid + mlp_out)


class Transformer(nnx.Module):
    """Decoder-only transformer with learned positions. `logits, acts = model(tokens_BxL, capture=...)`."""

    def __init__(self, cfg: ModelConfig, *, rngs: nnx.Rngs):
        if cfg.vocab_size is None:
            raise ValueError("ModelConfig.vocab_size is None: set it, or use cfg.for_vocab(process.vocab_size)")
        self.config = cfg
        std = cfg.init_scale / math.sqrt(cfg.d_model)
        self.W_E = _normal(rngs, (cfg.input_vocab_size, cfg.d_model), std)
        self.W_pos = _normal(rngs, (cfg.n_ctx, cfg.d_model), std)
        self.blocks = nnx.List([Block(cfg, rngs) for _ in range(cfg.n_layers)])
        self.ln_final = LayerNorm(cfg)
        self.W_U = _normal(rngs, (cfg.d_model, cfg.vocab_size), std)
        self.b_U = _zeros((cfg.vocab_size,))

    def __call__(self, tokens_BxL, capture=(), replace=None):
        """Logits `[B, L, V]` and a dict of the requested sites (empty unless asked for).

        `replace={site: [B, L, D]}` substitutes those residual sites' tensors (a captured site then holds the
        substitute) and the rest of the network runs on them.
        """
        wanted = resolve_capture(self.config, capture)
        substitutes = resolve_replace(self.config, replace)
        L = tokens_BxL.shape[-1]
        if L > self.config.n_ctx:
            raise ValueError(f"sequence length {L} exceeds the model's context n_ctx={self.config.n_ctx}")
        acts = {}

        def recorder(prefix):
            def record(name, value):
                if prefix + name in substitutes:
                    new = substitutes[prefix + name]
                    if new.shape != value.shape:
                        raise ValueError(
                            f"replace[{prefix + name!r}] has shape {new.shape}, the site has {value.shape}"
                        )
                    value = jnp.asarray(new, value.dtype)
                if prefix + name in wanted:
                    acts[prefix + name] = value
                return value

            return record

        record = recorder("")
        embed = record("embed", jnp.take(self.W_E[...], tokens_BxL, axis=0))
        resid = embed + record("pos_embed", jnp.broadcast_to(self.W_pos[:L], embed.shape))
        for layer, block in enumerate(self.blocks):
            resid = block(recorder(f"blocks.{layer}.")("resid_pre", resid), recorder(f"blocks.{layer}."))
        return self.unembed(record("ln_final", self.ln_final(resid))), acts

    def unembed(self, normalized_BxLxD):
        """Logits from an already normalised residual."""
        logits = normalized_BxLxD @ self.W_U[...]
        return logits + lift(self.b_U[...], logits)

    def site_names(self) -> tuple[str, ...]:
        """Every capturable site name (the `models.interface.Model` interface)."""
        return site_names(self.config)

    def residual_sites(self) -> tuple[str, ...]:
        """Residual-stream site names in forward order (what `capture="all"` returns)."""
        return residual_sites(self.config)

    def logits_from_residual(self, resid_BxLxD):
        """Final norm (statistics recomputed on this residual) then unembedding: the logit lens."""
        return self.unembed(self.ln_final(resid_BxLxD))
