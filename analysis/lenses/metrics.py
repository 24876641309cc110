"""Per-row divergences between next-token distributions, in nats (pure JAX; rows on the leading axes)."""

import jax.numpy as jnp
from jax.scipy.special import xlogy


def kl_from_log_probs(p_logp_NxV, q_logp_NxV):
    """`KL(p || q)` from two log-probability arrays: `sum_v p (log p - log q)`."""
    return jnp.sum(jnp.exp(p_logp_NxV) * (p_logp_NxV - q_logp_NxV), axis=-1)


def kl_from_probs(p_NxV, q_logp_NxV):
    """`KL(p || q)` for a probability array `p` that may hold exact zeros (0 log 0 = 0)."""
    return jnp.sum(xlogy(p_NxV, p_NxV) - p_NxV * q_logp_NxV, axis=-1)


def cross_entropy(p_NxV, q_logp_NxV):
    """Expected surprisal `-sum_v p log q` of the next token under `p`."""
    return -jnp.sum(p_NxV * q_logp_NxV, axis=-1)


def token_surprisal(ids_N, q_logp_NxV):
    """`-log q(observed token)`."""
    return -jnp.take_along_axis(q_logp_NxV, ids_N[..., None].astype(jnp.int32), axis=-1)[..., 0]


def entropy(logp_NxV):
    """Entropy of the distribution with these log-probabilities."""
    return -jnp.sum(jnp.exp(logp_NxV) * logp_NxV, axis=-1)
