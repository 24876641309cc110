"""In-context predictors for Markov-chain sequences, and per-position log-losses to compare them with models.

Every predictor returns `[B, L, V]` aligned like a model's logits: row t is the distribution of x_{t+1}
after seeing x_0..x_t. The first token (uniform in `DirichletMarkov` and `markov_pool`) is not predicted.
"""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from hmm.errors import ProcessError
from hmm.markov import check_pool
from hmm.sampling import check_token_array


def _check(tokens_BxL, vocab_size: int, smoothing: float, owner: str):
    if isinstance(smoothing, bool) or not isinstance(smoothing, (int, float)) or not smoothing > 0:
        raise ProcessError(f"{owner}: alpha={smoothing!r} is invalid: must be a number > 0 (the pseudo-count)")
    check_token_array(tokens_BxL, vocab_size, owner)
    return jnp.asarray(tokens_BxL, jnp.int32)


def _add_alpha(counts, alpha: float):
    """`(counts + alpha) / (sum + V alpha)` along the last axis."""
    return (counts + alpha) / (counts.sum(axis=-1, keepdims=True) + alpha * counts.shape[-1])


def _bigram_counts_BxLxVxV(tokens_BxL, V: int):
    """Counts of each bigram (x_s, x_{s+1}) with s + 1 <= t, at every position t (cumulative sums)."""
    pair_BxLm1 = tokens_BxL[:, :-1] * V + tokens_BxL[:, 1:]
    cum = jnp.cumsum(jax.nn.one_hot(pair_BxLm1, V * V, dtype=jnp.float32), axis=1)
    B, L = tokens_BxL.shape
    return jnp.concatenate([jnp.zeros((B, 1, V * V)), cum], axis=1).reshape(B, L, V, V)


def _next_counts_by_matching(tokens_BxL, V: int):
    """`N_t[x_t, :]` from pairs of positions: how often x_t was followed by each token before t. O(L^2 V)."""
    L = tokens_BxL.shape[1]
    earlier_LxL = jnp.arange(L)[None, :] < jnp.arange(L)[:, None]  # [t, s]: s < t
    same_BxLxL = (tokens_BxL[:, :, None] == tokens_BxL[:, None, :]) & earlier_LxL[None]
    follower_BxLxV = jax.nn.one_hot(jnp.roll(tokens_BxL, -1, axis=1), V, dtype=jnp.float32)  # s = L-1 never used
    return jnp.einsum("bts,bsv->btv", same_BxLxL.astype(jnp.float32), follower_BxLxV)


def _row_of_current(counts_BxLxVxV, tokens_BxL):
    return jnp.take_along_axis(counts_BxLxVxV, tokens_BxL[:, :, None, None], axis=2)[:, :, 0]


def bigram_posterior_mean(tokens_BxL, vocab_size: int, alpha: float):
    """Posterior mean of the transition matrix under a Dirichlet(alpha) prior per row, after x_0..x_t:
    `(N_t + alpha) / (N_t 1 + V alpha)` with N_t the bigram counts among x_0..x_t. `[B, L, V, V]`."""
    tokens = _check(tokens_BxL, vocab_size, alpha, "bigram_posterior_mean")
    return _bigram_posterior_mean(tokens, vocab_size, alpha)


@partial(jax.jit, static_argnames=("V",))
def _bigram_posterior_mean(tokens_BxL, V: int, alpha):
    return _add_alpha(_bigram_counts_BxLxVxV(tokens_BxL, V), alpha)


def bigram_predictive(tokens_BxL, vocab_size: int, alpha: float):
    """Add-alpha in-context bigram estimator:
    `P(x_{t+1} = v | x_0..x_t) = (N_t[x_t, v] + alpha) / (N_t[x_t] 1 + V alpha)`.

    With alpha the prior's concentration it is the exact Bayes predictor of `DirichletMarkov` (the
    posterior-mean matrix's row x_t). Counts come from cumulative sums when 3 V^2 <= L, else from
    matching positions; `[B, L, V]`.
    """
    tokens = _check(tokens_BxL, vocab_size, alpha, "bigram_predictive")
    return _bigram_predictive(tokens, vocab_size, alpha)


@partial(jax.jit, static_argnames=("V",))
def _bigram_predictive(tokens_BxL, V: int, alpha):
    if 3 * V * V <= tokens_BxL.shape[1]:  # the faster route on CPU, measured at V = 2..16, L = 128..512
        counts = _row_of_current(_bigram_counts_BxLxVxV(tokens_BxL, V), tokens_BxL)
    else:
        counts = _next_counts_by_matching(tokens_BxL, V)
    return _add_alpha(counts, alpha)


def unigram_predictive(tokens_BxL, vocab_size: int, alpha: float):
    """Add-alpha in-context unigram estimator `P(x_{t+1} = v) = (n_t(v) + alpha) / (t + 1 + V alpha)`,
    n_t(v) counting v among x_0..x_t. `[B, L, V]`."""
    tokens = _check(tokens_BxL, vocab_size, alpha, "unigram_predictive")
    return _unigram_predictive(tokens, vocab_size, alpha)


@partial(jax.jit, static_argnames=("V",))
def _unigram_predictive(tokens_BxL, V: int, alpha):
    return _add_alpha(jnp.cumsum(jax.nn.one_hot(tokens_BxL, V, dtype=jnp.float32), axis=1), alpha)


@jax.jit
def _pool_predictive(log_P_MxVxV, P_MxVxV, log_w_M, tokens_BxL):
    ll_MxBxLm1 = log_P_MxVxV[:, tokens_BxL[:, :-1], tokens_BxL[:, 1:]]
    M, B = ll_MxBxLm1.shape[:2]
    cum_MxBxL = jnp.concatenate([jnp.zeros((M, B, 1)), jnp.cumsum(ll_MxBxLm1, axis=2)], axis=2)
    post_BxLxM = jax.nn.softmax(cum_MxBxL.transpose(1, 2, 0) + log_w_M[None, None, :], axis=-1)
    return jnp.einsum("blm,mblv->blv", post_BxLxM, P_MxVxV[:, tokens_BxL])


def pool_predictive(matrices_MxVxV, tokens_BxL, weights=None):
    """Exact Bayes predictor for a finite pool of chains (uniform first token): `[B, L, V]`.

    The posterior over chains after x_0..x_t is proportional to `weights[m] prod_{s<t} P_m[x_s, x_{s+1}]`
    (default weights uniform); the prediction mixes the chains' rows for x_t. Equals filtering with
    `markov_pool`'s process, without building it (so it serves pools of thousands of chains).
    """
    matrices, log_w = check_pool(matrices_MxVxV, weights)
    V = matrices.shape[1]
    check_token_array(tokens_BxL, V, "pool_predictive")
    with np.errstate(divide="ignore"):
        log_P = np.log(matrices)
    return _pool_predictive(
        jnp.asarray(log_P, jnp.float32),
        jnp.asarray(matrices, jnp.float32),
        jnp.asarray(log_w, jnp.float32),
        jnp.asarray(tokens_BxL, jnp.int32),
    )


def next_token_log_loss(predictive_BxLxV, tokens_BxL):
    """`-log P(x_{t+1})` under row t of a predictor (Bayes or a model's softmax): `[B, L-1]` nats."""
    tokens = jnp.asarray(tokens_BxL, jnp.int32)
    pred = jnp.asarray(predictive_BxLxV)
    if pred.ndim != 3 or pred.shape[:2] != tokens.shape:
        raise ProcessError(
            f"predictive must have shape [B, L, V] matching tokens {list(tokens.shape)}, got {list(pred.shape)}"
        )
    p = jnp.take_along_axis(pred[:, :-1], tokens[:, 1:, None], axis=-1)[..., 0]
    return -jnp.log(p)


def position_curve(predictive_BxLxV, tokens_BxL):
    """Mean cross-entropy at each position over the batch: `[L-1]` nats (entry t: predicting x_{t+1})."""
    return next_token_log_loss(predictive_BxLxV, tokens_BxL).mean(axis=0)


def icl_curves(
    tokens_BxL, vocab_size: int, alpha: float, matrices_MxVxV=None, weights=None, smoothing: float = 1.0
) -> dict:
    """Per-position loss curves `[L-1]` of the in-context predictors on `tokens`.

    `dirichlet`: Bayes under the Dirichlet(alpha) prior (ridge's analogue); `pool`: Bayes under the finite
    pool `matrices` (dMMSE's analogue; only if given); `unigram` and `bigram`: add-`smoothing` estimators.
    """
    curves = {
        "dirichlet": position_curve(bigram_predictive(tokens_BxL, vocab_size, alpha), tokens_BxL),
        "unigram": position_curve(unigram_predictive(tokens_BxL, vocab_size, smoothing), tokens_BxL),
        "bigram": position_curve(bigram_predictive(tokens_BxL, vocab_size, smoothing), tokens_BxL),
    }
    if matrices_MxVxV is not None:
        curves["pool"] = position_curve(pool_predictive(matrices_MxVxV, tokens_BxL, weights), tokens_BxL)
    return {k: np.asarray(v, np.float64) for k, v in curves.items()}


MAX_ENUMERATED = 2**20


def dirichlet_myopic_entropy(vocab_size: int, alpha: float, max_len: int) -> np.ndarray:
    """Exact `h[t] = H(X_t | X_<t)` (nats) for t = 0..max_len-1 under `DirichletMarkov`, by enumerating every
    sequence of length max_len (h[0] = log V). `h[1:]` is the expected Bayes curve that `icl_curves`'s
    `dirichlet` entry estimates from samples."""
    if vocab_size**max_len > MAX_ENUMERATED:
        raise ProcessError(
            f"dirichlet_myopic_entropy would enumerate {vocab_size}^{max_len} sequences "
            f"(limit {MAX_ENUMERATED:,}); use a smaller max_len or estimate with icl_curves"
        )
    codes = np.arange(vocab_size**max_len)
    tokens = (codes[:, None] // vocab_size ** np.arange(max_len - 1, -1, -1)) % vocab_size
    log_loss = np.asarray(next_token_log_loss(bigram_predictive(tokens, vocab_size, alpha), tokens), np.float64)
    prob = np.exp(-log_loss.sum(axis=1)) / vocab_size
    return np.concatenate([[np.log(vocab_size)], prob @ log_loss])
