"""Alignment between sampled process tokens and the model's inputs, targets and target beliefs.

Without BOS, position t sees `x_0..x_t` and predicts `x_{t+1}`: a batch samples `n_ctx + 1`
tokens, inputs are `tokens[:, :-1]`, targets `tokens[:, 1:]`.
With BOS (token id `vocab_size`), position 0 sees only BOS and predicts `x_0`; position t sees
`x_0..x_{t-1}` and predicts `x_t`: a batch samples `n_ctx` tokens, inputs are
`[BOS, x_0..x_{n_ctx-2}]`, targets `x_0..x_{n_ctx-1}`.
Either way the belief a position should hold is the posterior after the process tokens it has seen
(the stationary distribution for the BOS position).
"""

import jax
import jax.numpy as jnp
import numpy as np

import hmm
from models.config import ModelConfig


def context_length(cfg: ModelConfig) -> int:
    """Process tokens the model sees in a full context."""
    return cfg.n_ctx - int(cfg.bos)


def inputs_from_context(tokens_BxC, cfg: ModelConfig):
    """Model inputs `[B, n_ctx]` from the process tokens it sees (BOS prepended if configured)."""
    if not cfg.bos:
        return tokens_BxC
    bos_Bx1 = jnp.full((tokens_BxC.shape[0], 1), cfg.bos_token, tokens_BxC.dtype)
    return jnp.concatenate([bos_Bx1, tokens_BxC], axis=1)


def position_beliefs(beliefs_BxCxS, root_S, cfg: ModelConfig):
    """Belief each input position should hold `[B, n_ctx, S]`, from posteriors after each seen token.

    NumPy in, NumPy out (same dtype); JAX in, JAX out.
    """
    if not cfg.bos:
        return beliefs_BxCxS
    xp = jnp if isinstance(beliefs_BxCxS, jax.Array) else np
    B, _, S = beliefs_BxCxS.shape
    root_Bx1xS = xp.broadcast_to(xp.asarray(root_S, beliefs_BxCxS.dtype), (B, 1, S))
    return xp.concatenate([root_Bx1xS, beliefs_BxCxS], axis=1)


def sample_tokens(source, key, batch_size: int, seq_len: int):
    """Tokens `[B, L]` int32 drawn on device from a data source: an `hmm.Process` (through `hmm.sample`), or any
    object with `sample(key, batch_size, seq_len) -> tokens` (e.g. `hmm.DirichletMarkov`, which has no finite
    states). This is the one place training data is drawn."""
    if isinstance(source, hmm.Process):
        return hmm.sample(source, key, batch_size, seq_len)[0]
    return source.sample(key, batch_size, seq_len)


def sample_batch(process, key, batch_size: int, cfg: ModelConfig):
    """One training batch drawn on device from `process` (see `sample_tokens`): inputs and targets, both
    `[B, n_ctx]` int32."""
    C = context_length(cfg)
    tokens_BxN = sample_tokens(process, key, batch_size, C + 1)
    return inputs_from_context(tokens_BxN[:, :C], cfg), tokens_BxN[:, 1 - int(cfg.bos) :]


def cross_entropy(logits_BxLxV, targets_BxL):
    """Per-token cross-entropy (nats) `[B, L]` (a one-hot product: cheaper than a gather's gradient on CPU)."""
    logp_BxLxV = jax.nn.log_softmax(logits_BxLxV, axis=-1)
    return -(logp_BxLxV * jax.nn.one_hot(targets_BxL, logp_BxLxV.shape[-1], dtype=logp_BxLxV.dtype)).sum(-1)


def split_batch(microbatches: int, *arrays):
    """The arrays cut into `microbatches` equal parts along the batch axis: a list of tuples."""
    return list(zip(*(jnp.split(a, microbatches) for a in arrays)))
