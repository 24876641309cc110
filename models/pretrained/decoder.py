"""The pretrained decoder behind every architecture: named sites, `capture`, `replace`, the logit lens.

`logits_BxLxV, acts = model(tokens_BxL, capture=(), replace=None)` with TransformerLens site names:
`embed`, `pos_embed` (learned positions only), `blocks.{l}.resid_pre`, `blocks.{l}.attn_out`,
`blocks.{l}.resid_mid`, `blocks.{l}.mlp_out`, `blocks.{l}.resid_post`, `ln_final`, and, by name only,
`blocks.{l}.attn.pattern` `[B, H, L, L]`. `capture="all"` means every residual-stream site.
`replace={site: array}` substitutes that tensor and the forward pass continues from it.
With a parallel residual (GPT-NeoX) the MLP reads `resid_pre`, `resid_mid = resid_pre + attn_out`
and `resid_post = resid_mid + mlp_out`, so the sums match the sequential case.
The forward pass is jitted once per (capture, replace-keys) combination.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from models.arrays import lift
from models.pretrained.config import PretrainedConfig
from models.pretrained.layers import MLP, Attention, Norm, param

BLOCK_SITES = ("resid_pre", "attn_out", "resid_mid", "mlp_out", "resid_post")


def residual_site_names(cfg: PretrainedConfig) -> tuple[str, ...]:
    """Residual-stream sites in forward order."""
    sites = ["embed"] + (["pos_embed"] if not cfg.rotary_dim else [])
    for layer in range(cfg.n_layers):
        sites += [f"blocks.{layer}.{s}" for s in BLOCK_SITES]
    return tuple(sites + ["ln_final"])


def all_site_names(cfg: PretrainedConfig) -> tuple[str, ...]:
    """Every capturable site: the residual stream plus each block's attention pattern."""
    return residual_site_names(cfg) + tuple(f"blocks.{layer}.attn.pattern" for layer in range(cfg.n_layers))


class Block(nnx.Module):
    """Pre-norm block, sequential (`resid_mid` feeds the MLP) or parallel (`resid_pre` feeds both)."""

    def __init__(self, cfg: PretrainedConfig, weights: dict):
        self.parallel = cfg.parallel_residual
        self.ln1, self.ln2 = Norm(cfg, weights["ln1"]), Norm(cfg, weights["ln2"])
        self.attn = Attention(cfg, weights["attn"])
        self.mlp = MLP(cfg, weights["mlp"])

    def __call__(self, resid_pre_BxLxD, record):
        attn_out, pattern = self.attn(self.ln1(resid_pre_BxLxD))
        record("attn.pattern", pattern)
        attn_out = record("attn_out", attn_out)
        resid_mid = record("resid_mid", resid_pre_BxLxD + attn_out)
        mlp_out = record("mlp_out", self.mlp(self.ln2(resid_pre_BxLxD if self.parallel else resid_mid)))
        return record("resid_post", resid_mid + mlp_out)


@functools.lru_cache(maxsize=128)
def _compiled_forward(wanted: frozenset, replaced: tuple):
    def forward(graphdef, state, tokens_BxL, replace):
        return nnx.merge(graphdef, state).forward(tokens_BxL, wanted, replace)
    return jax.jit(forward, static_argnums=0)


class PretrainedDecoder(nnx.Module):
    """A pretrained decoder-only language model built from `weights` in this package's layout:
    `W_E [V, D]`, optional `W_pos [n_ctx, D]`, `blocks: [{ln1, attn, ln2, mlp}]`, `ln_final`,
    `W_U [D, V]` (absent when tied to `W_E`), optional `b_U [V]`.

    The unembedding is held as a contiguous `W_U [D, V]` (on a CPU `x @ W_U` is about a fifth faster than
    `x @ W_E.T`); with tied embeddings it is the only copy (`W_E` is None) and the embedding reads its columns."""

    def __init__(self, cfg: PretrainedConfig, weights: dict):
        self.config = cfg
        self.W_E = None if cfg.tied_embeddings else param(weights["W_E"])
        self.W_U = param(np.ascontiguousarray(np.asarray(weights["W_E"]).T) if cfg.tied_embeddings else weights["W_U"])
        self.W_pos = None if cfg.rotary_dim else param(weights["W_pos"])
        self.blocks = nnx.List([Block(cfg, w) for w in weights["blocks"]])
        self.ln_final = Norm(cfg, weights["ln_final"])
        self.b_U = param(weights["b_U"]) if cfg.unembed_bias else None

    def site_names(self) -> tuple[str, ...]:
        """Every capturable site name."""
        return all_site_names(self.config)

    def residual_sites(self) -> tuple[str, ...]:
        """Residual-stream site names in forward order (what `capture="all"` returns)."""
        return residual_site_names(self.config)

    def __call__(self, tokens_BxL, capture=(), replace=None):
        """Logits `[B, L, V]` and `{site: array}` for the captured sites (and every replaced one)."""
        wanted = self._resolve(capture)
        replace = dict(replace or {})
        tokens_BxL = jnp.asarray(tokens_BxL, jnp.int32)
        self._check(tokens_BxL, replace)
        graphdef, state = nnx.split(self)
        return _compiled_forward(wanted, tuple(sorted(replace)))(graphdef, state, tokens_BxL, replace)

    def _resolve(self, capture) -> frozenset:
        if capture is None:
            return frozenset()
        if isinstance(capture, str):
            capture = self.residual_sites() if capture == "all" else (capture,)
        wanted = frozenset(capture)
        unknown = sorted(wanted - set(self.site_names()))
        if unknown:
            raise KeyError(f"unknown site(s) {unknown}; valid sites are {list(self.residual_sites())}, "
                           "blocks.{l}.attn.pattern or 'all'")
        return wanted

    def _check(self, tokens_BxL, replace):
        if tokens_BxL.ndim != 2:
            raise ValueError(f"tokens must be [batch, length], got shape {tokens_BxL.shape}")
        B, L = tokens_BxL.shape
        if L > self.config.n_ctx:
            raise ValueError(f"sequence length {L} exceeds the model's context n_ctx={self.config.n_ctx}")
        residual = set(self.residual_sites())
        for site, value in replace.items():
            if site not in residual:
                raise KeyError(f"replace: {site!r} is not a residual site; valid sites are {sorted(residual)}")
            if tuple(value.shape) != (B, L, self.config.d_model):
                raise ValueError(f"replace[{site!r}] has shape {tuple(value.shape)}, "
                                 f"expected {(B, L, self.config.d_model)}")

    def forward(self, tokens_BxL, wanted: frozenset, replace: dict):
        """The uncompiled forward pass (call the model instead; this is what it jits)."""
        acts = {}

        def recorder(prefix):
            def record(name, value):
                site = prefix + name
                value = replace.get(site, value)
                if site in wanted or site in replace:
                    acts[site] = value
                return value
            return record

        record = recorder("")
        resid = record("embed", self.embed(tokens_BxL))
        if self.W_pos is not None:
            resid = resid + record("pos_embed", jnp.broadcast_to(self.W_pos[: tokens_BxL.shape[1]], resid.shape))
        for layer, block in enumerate(self.blocks):
            block_record = recorder(f"blocks.{layer}.")
            resid = block(block_record("resid_pre", resid), block_record)
        return self.unembed(record("ln_final", self.ln_final(resid))), acts

    def embed(self, tokens_BxL):
        """Token embeddings `[B, L, D]`: rows of `W_E`, or columns of `W_U` when the two are tied."""
        if self.W_E is None:
            return jnp.take(self.W_U[...], tokens_BxL, axis=1).transpose(1, 2, 0)
        return jnp.take(self.W_E[...], tokens_BxL, axis=0)

    def unembed(self, normalized_BxLxD, vocab=None):
        """Logits from an already normalised residual; `vocab` (token ids) keeps only those columns."""
        W_U = self.W_U[...] if vocab is None else jnp.take(self.W_U[...], vocab, axis=1)
        logits = normalized_BxLxD @ W_U
        if self.b_U is not None:
            b_U = self.b_U[...] if vocab is None else jnp.take(self.b_U[...], vocab)
            logits = logits + lift(b_U, logits)
        return logits

    def logits_from_residual(self, resid_BxLxD, vocab=None):
        """Final norm (statistics recomputed on this residual) then unembedding: the logit lens.
        `vocab` (token ids) restricts the logits to those tokens (a cheaper readout for lens training)."""
        return self.unembed(self.ln_final(resid_BxLxD), vocab)
