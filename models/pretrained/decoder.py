"""The pretrained decoder behind every architecture: named sites, `capture`, `replace`, the logit lens.

`logits_BxLxV, acts = model(tokens_BxL, capture=(), replace=None)` with TransformerLens site names:
`embed`, `pos_embed` (learned positions only), `blocks.{l}.resid_pre`, `blocks.{l}.attn_out`,
`blocks.{l}.resid_mid`, `blocks.{l}.mlp_out`, `blocks.{l}.resid_post`, `ln_final`, and, by name only,
`blocks.{l}.attn.z` `[B, L, H, D_head]` (per-head attention outputs before the output projection) and
`blocks.{l}.attn.pattern` `[B, H, L, L]`. `capture="all"` means every residual-stream site.
`replace={site: array}` substitutes a residual site's or a block's head outputs' tensor and the forward
pass continues from it. With a parallel residual (GPT-NeoX) the MLP reads `resid_pre`,
`resid_mid = resid_pre + attn_out` and `resid_post = resid_mid + mlp_out`, so the sums match the sequential case.

The layers run under one `jax.lax.scan` over stacked per-layer weights, so compiling takes the same time
for any depth and length; a call is jitted once per (capture, replace-keys, precision) combination.
Captured block sites leave the scan stacked; replaced ones enter it stacked, each layer picking its own
by a slot index (-1: keep the computed tensor).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from models.arrays import lift
from models.config import ConfigError
from models.pretrained.config import PretrainedConfig
from models.pretrained.layers import MLP, Attention, Norm, param
from models.pretrained.sites import (
    HEAD_SITE,
    PATTERN_SITE,
    all_site_names,
    replaceable_site_names,
    residual_site_names,
    scan_plan,
    site_shape,
)

# `precision=` values: None keeps JAX's default for float32 matrix products (TF32 on recent GPUs, exact on CPUs)
PRECISIONS = (None, "default", "high", "highest")


class Block(nnx.Module):
    """Pre-norm block, sequential (`resid_mid` feeds the MLP) or parallel (`resid_pre` feeds both).

    Built from stacked weights (a leading layer axis) it holds every layer; the scan hands it one layer's slice."""

    def __init__(self, cfg: PretrainedConfig, weights: dict):
        self.parallel = cfg.parallel_residual
        self.ln1, self.ln2 = Norm(cfg, weights["ln1"]), Norm(cfg, weights["ln2"])
        self.attn = Attention(cfg, weights["attn"])
        self.mlp = MLP(cfg, weights["mlp"])

    def __call__(self, resid_pre_BxLxD, record, with_pattern: bool = False):
        z_BxLxHxDh, pattern = self.attn.heads(self.ln1(resid_pre_BxLxD), with_pattern)
        if pattern is not None:
            record(PATTERN_SITE, pattern)
        attn_out = record("attn_out", self.attn.output(record(HEAD_SITE, z_BxLxHxDh)))
        resid_mid = record("resid_mid", resid_pre_BxLxD + attn_out)
        mlp_out = record("mlp_out", self.mlp(self.ln2(resid_pre_BxLxD if self.parallel else resid_mid)))
        return record("resid_post", resid_mid + mlp_out)


def stack_layers(blocks: list) -> dict:
    """One weights dict whose arrays carry a leading layer axis (None entries stay None)."""

    def stack(*per_layer):
        return None if per_layer[0] is None else np.stack([np.asarray(a, np.float32) for a in per_layer])

    return jax.tree.map(stack, *blocks, is_leaf=lambda x: x is None)


@jax.jit
def _unstack(stack_NxS) -> tuple:
    """The leading axis's slices as separate arrays (compiled once per shape)."""
    return tuple(stack_NxS[i] for i in range(stack_NxS.shape[0]))


@functools.lru_cache(maxsize=128)
def _compiled_forward(wanted: frozenset, replaced: tuple, precision):
    def forward(graphdef, state, tokens_BxL, replace):
        with jax.default_matmul_precision(precision):
            return nnx.merge(graphdef, state).forward(tokens_BxL, wanted, replace)

    return jax.jit(forward, static_argnums=0)


class PretrainedDecoder(nnx.Module):
    """A pretrained decoder-only language model built from `weights` in this package's layout:
    `W_E [V, D]`, optional `W_pos [n_ctx, D]`, `blocks: [{ln1, attn, ln2, mlp}]`, `ln_final`,
    `W_U [D, V]` (absent when tied to `W_E`), optional `b_U [V]`.

    The unembedding is held as a contiguous `W_U [D, V]` (on a CPU `x @ W_U` is about a fifth faster than
    `x @ W_E.T`); with tied embeddings it is the only copy (`W_E` is None) and the embedding reads its columns.
    `precision` (None, "default", "high" or "highest") sets the float32 matrix-product precision of every call."""

    def __init__(self, cfg: PretrainedConfig, weights: dict, precision=None):
        self.config = cfg
        self.precision = check_precision(precision)
        self.W_E = None if cfg.tied_embeddings else param(weights["W_E"])
        self.W_U = param(np.ascontiguousarray(np.asarray(weights["W_E"]).T) if cfg.tied_embeddings else weights["W_U"])
        self.W_pos = None if cfg.rotary_dim else param(weights["W_pos"])
        self.blocks = Block(cfg, stack_layers(weights["blocks"]))
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
        forward, args = self._jitted(tokens_BxL, capture, replace)
        logits, acts, stacks = forward(*args)
        plan = scan_plan(self.config, self._resolve(capture), tuple(args[3]))
        for kind, stack in stacks.items():
            per_slot = _unstack(stack)
            for layer in np.flatnonzero(plan.capture[kind] >= 0):
                acts[f"blocks.{layer}.{kind}"] = per_slot[plan.capture[kind][layer]]
        return logits, acts

    def lowered(self, tokens_BxL, capture=(), replace=None):
        """The forward pass lowered for these shapes; `.compile()` on it times or inspects compilation alone."""
        forward, args = self._jitted(tokens_BxL, capture, replace)
        return forward.lower(*args)

    def _jitted(self, tokens_BxL, capture, replace):
        wanted = self._resolve(capture)
        replace = dict(replace or {})
        tokens_BxL = jnp.asarray(tokens_BxL, jnp.int32)
        self._check(tokens_BxL, replace)
        graphdef, state = nnx.split(self)
        forward = _compiled_forward(wanted, tuple(sorted(replace)), self.precision)
        return forward, (graphdef, state, tokens_BxL, replace)

    def _resolve(self, capture) -> frozenset:
        if capture is None:
            return frozenset()
        if isinstance(capture, str):
            capture = self.residual_sites() if capture == "all" else (capture,)
        wanted = frozenset(capture)
        unknown = sorted(wanted - set(self.site_names()))
        if unknown:
            raise KeyError(
                f"unknown site(s) {unknown}; valid sites are {list(self.residual_sites())}, "
                "blocks.{l}.attn.z, blocks.{l}.attn.pattern or 'all'"
            )
        return wanted

    def _check(self, tokens_BxL, replace):
        if tokens_BxL.ndim != 2:
            raise ValueError(f"tokens must be [batch, length], got shape {tokens_BxL.shape}")
        B, L = tokens_BxL.shape
        if L > self.config.n_ctx:
            raise ValueError(f"sequence length {L} exceeds the model's context n_ctx={self.config.n_ctx}")
        replaceable = set(replaceable_site_names(self.config))
        for site, value in replace.items():
            if site not in replaceable:
                raise KeyError(
                    f"replace: {site!r} is not a replaceable site; valid sites are the residual "
                    f"stream {list(self.residual_sites())} and blocks.{{l}}.attn.z"
                )
            expected = site_shape(self.config, site, B, L)
            if tuple(value.shape) != expected:
                raise ValueError(f"replace[{site!r}] has shape {tuple(value.shape)}, expected {expected}")

    def forward(self, tokens_BxL, wanted: frozenset, replace: dict):
        """The uncompiled forward pass (call the model instead; this is what it jits): logits, the captured and
        replaced sites outside the stacks, and `{kind: [n, ...]}` stacks of the captured block sites in slot order.
        (Slicing the stacks into per-layer arrays inside this function would cost seconds of compilation.)"""
        replace = {site: jnp.asarray(value, jnp.float32) for site, value in replace.items()}
        acts = {site: value for site, value in replace.items()}

        def record(site, value):
            if site in wanted:
                acts[site] = replace.get(site, value)
            return replace.get(site, value)

        resid = record("embed", self.embed(tokens_BxL))
        if self.W_pos is not None:
            resid = resid + record("pos_embed", jnp.broadcast_to(self.W_pos[: tokens_BxL.shape[1]], resid.shape))
        resid, stacks = self._run_blocks(resid, wanted, replace)
        return self.unembed(record("ln_final", self.ln_final(resid))), acts, stacks

    def _run_blocks(self, resid_BxLxD, wanted: frozenset, replace: dict):
        """All layers under one scan: the last residual and `{kind: [n, ...]}` stacks of the captured block
        sites (slot order). A kind captured at every layer leaves the scan as its stacked output; one captured
        at some layers goes into a carried buffer with a slot per captured layer."""
        cfg = self.config
        B, L, _ = resid_BxLxD.shape
        plan = scan_plan(cfg, wanted, tuple(replace))
        substitutes = {
            kind: jnp.stack([replace[site] for site in sites]) for kind, sites in plan.replaced_sites.items()
        }
        every = {kind for kind, slot_N in plan.capture.items() if (slot_N >= 0).all()}
        partial = {kind: slot_N for kind, slot_N in plan.capture.items() if kind not in every}
        buffers = {
            kind: jnp.zeros((int(slot_N.max()) + 1, *site_shape(cfg, f"blocks.0.{kind}", B, L)), jnp.float32)
            for kind, slot_N in partial.items()
        }
        graphdef, stacked = nnx.split(self.blocks)

        def layer(carry, per_layer):
            resid, buffers = carry
            weights, capture_slot, replace_slot = per_layer
            buffers, outputs = dict(buffers), {}

            def record(kind, value):
                if kind in replace_slot:
                    slot = replace_slot[kind]
                    value = jnp.where(slot >= 0, substitutes[kind][jnp.maximum(slot, 0)], value)
                if kind in every:
                    outputs[kind] = value
                elif kind in capture_slot:
                    slot, buffer = capture_slot[kind], buffers[kind]
                    at = jnp.maximum(slot, 0)
                    buffers[kind] = buffer.at[at].set(jnp.where(slot >= 0, value, buffer[at]))
                return value

            block = nnx.merge(graphdef, weights)
            resid = block(record("resid_pre", resid), record, plan.with_pattern)
            return (resid, buffers), outputs

        per_layer = (
            stacked,
            {k: jnp.asarray(s) for k, s in partial.items()},
            {k: jnp.asarray(s) for k, s in plan.replace.items()},
        )
        (resid_BxLxD, buffers), outputs = jax.lax.scan(layer, (resid_BxLxD, buffers), per_layer)
        return resid_BxLxD, {kind: outputs[kind] if kind in every else buffers[kind] for kind in plan.capture}

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
        with jax.default_matmul_precision(self.precision):
            return self.unembed(self.ln_final(resid_BxLxD), vocab)


def check_precision(precision):
    """`precision` if allowed, else a one-line `ConfigError` naming the allowed values."""
    if precision not in PRECISIONS:
        raise ConfigError(f"precision={precision!r} is not allowed: expected one of {list(PRECISIONS)}")
    return precision
