"""Sampling Markov-chain sequences on device: given matrices, from a finite pool, or from a Dirichlet prior."""

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from hmm.errors import ProcessError
from hmm.gamma import dirichlet_rows
from hmm.icl_bayes import bigram_posterior_mean, bigram_predictive
from hmm.markov import check_pool
from hmm.registry import Param
from hmm.sampling import _check_size


@partial(jax.jit, static_argnames=("seq_len",))
def _sample_chains(key, matrices_BxVxV, seq_len: int):
    B, V = matrices_BxVxV.shape[:2]
    cdf_BxVxV = jnp.cumsum(matrices_BxVxV, axis=-1)
    first_key, step_key = jax.random.split(key)
    x0_B = jax.random.randint(first_key, (B,), 0, V)
    u_LxB = jax.random.uniform(step_key, (seq_len - 1, B))

    def step(x_B, u_B):
        cdf_BxV = jnp.take_along_axis(cdf_BxVxV, x_B[:, None, None], axis=1)[:, 0]
        x_B = jnp.minimum(jnp.sum(u_B[:, None] * cdf_BxV[:, -1:] >= cdf_BxV, axis=-1), V - 1).astype(jnp.int32)
        return x_B, x_B

    _, rest_LxB = jax.lax.scan(step, x0_B.astype(jnp.int32), u_LxB)
    return jnp.concatenate([x0_B[None].astype(jnp.int32), rest_LxB]).T


def sample_markov_chains(key, matrices_BxVxV, seq_len: int):
    """One sequence per matrix: tokens `[B, L]` int32, x_0 uniform, then `P(x_{t+1} = j | x_t = i) = P[b, i, j]`."""
    _check_size("seq_len", seq_len)
    if not isinstance(matrices_BxVxV, jax.core.Tracer):
        matrices = np.asarray(matrices_BxVxV)
        if matrices.ndim != 3 or matrices.shape[1] != matrices.shape[2]:
            raise ProcessError(f"matrices must have shape [B, V, V], got {list(matrices.shape)}")
    return _sample_chains(key, jnp.asarray(matrices_BxVxV, jnp.float32), int(seq_len))


def pool_chain_cdf(log_weights_M, size: int | None = None) -> np.ndarray:
    """Cumulative chain probabilities `[size]` float32 (computed in float64), padded past M with the total:
    padded chains get zero probability. Equal for equal weights whatever the padding."""
    w = np.exp(np.asarray(log_weights_M, np.float64))
    cdf = np.cumsum(w / w.sum())
    size = len(cdf) if size is None else int(size)
    if size < len(cdf):
        raise ProcessError(f"size={size} is invalid: the pool has {len(cdf)} chains")
    return np.concatenate([cdf, np.full(size - len(cdf), cdf[-1])]).astype(np.float32)


def draw_from_pool(key, chain_cdf_M, matrices_MxVxV, batch_size: int, seq_len: int):
    """Tokens `[B, L]` int32 and chain indices `[B]` from a pool given its chain CDF (`pool_chain_cdf`); jittable
    and vmappable over the arrays. A chain whose probability is zero (e.g. padding) is never drawn: the index is
    the first chain whose CDF exceeds the uniform draw, capped at the first chain that reaches the total."""
    chain_key, token_key = jax.random.split(key)
    cdf_M = jnp.asarray(chain_cdf_M, jnp.float32)
    u_B = jax.random.uniform(chain_key, (int(batch_size),)) * cdf_M[-1]
    last = jnp.argmax(cdf_M >= cdf_M[-1])
    chain_B = jnp.minimum(jnp.sum(u_B[:, None] >= cdf_M[None, :], axis=-1), last).astype(jnp.int32)
    matrices_BxVxV = jnp.asarray(matrices_MxVxV, jnp.float32)[chain_B]
    return _sample_chains(token_key, matrices_BxVxV, int(seq_len)), chain_B


def sample_pool(key, matrices_MxVxV, batch_size: int, seq_len: int, weights=None):
    """Sequences from a pool of chains: each draws chain m with probability `weights[m]` (default uniform).

    Returns tokens `[B, L]` int32 and each sequence's chain index `[B]`. The first token is uniform, as in
    `markov_pool`, whose process this samples without building it.
    """
    _check_size("batch_size", batch_size)
    _check_size("seq_len", seq_len)
    matrices, log_w = check_pool(matrices_MxVxV, weights)
    return draw_from_pool(key, pool_chain_cdf(log_w), matrices, batch_size, seq_len)


DIRICHLET_PARAMS = dict(vocab_size=Param(3, 1, 1024, integer=True), alpha=Param(1.0, 0.0, 1e6, low_open=True))


@dataclass(frozen=True)
class DirichletMarkov:
    """Markov chains whose transition rows are drawn per sequence from Dirichlet(alpha, ..., alpha).

    The first token is uniform, so it says nothing about the matrix: the exact Bayes predictor is then the
    in-context bigram counts plus alpha, normalised (`bigram_predictive`). A first token drawn from each
    chain's own stationary distribution would break that closed form.
    """

    vocab_size: int
    alpha: float

    def __post_init__(self):
        for name, spec in DIRICHLET_PARAMS.items():
            spec.check("dirichlet_markov", name, getattr(self, name))

    @property
    def name(self) -> str:
        return "dirichlet_markov"

    def sample(self, key, batch_size: int, seq_len: int, return_matrices: bool = False):
        """Tokens `[B, L]` int32 (and, if asked, each sequence's true matrix `[B, V, V]` float32), keyed."""
        _check_size("batch_size", batch_size)
        matrix_key, token_key = jax.random.split(key)
        V = self.vocab_size
        matrices = dirichlet_rows(matrix_key, self.alpha, (int(batch_size), V, V))
        tokens = sample_markov_chains(token_key, matrices, seq_len)
        return (tokens, matrices) if return_matrices else tokens

    def predictive(self, tokens_BxL):
        """Exact Bayes `P(x_{t+1} | x_0..x_t)` at every position: `[B, L, V]`."""
        return bigram_predictive(tokens_BxL, self.vocab_size, self.alpha)

    def posterior_mean(self, tokens_BxL):
        """Posterior-mean transition matrix after `x_0..x_t` at every position: `[B, L, V, V]`."""
        return bigram_posterior_mean(tokens_BxL, self.vocab_size, self.alpha)
