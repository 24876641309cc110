"""Markov chains over tokens as processes (state = last token), and a finite pool of Dirichlet-drawn chains."""

import numpy as np

from hmm.errors import ProcessError
from hmm.mixture import check_weights, mixture
from hmm.process import Process, from_matrices
from hmm.registry import Param, register
from hmm.validation import ROW_SUM_TOL

FIRST_TOKEN = ("stationary", "uniform")


def check_transition_matrix(matrix, field: str = "matrix") -> np.ndarray:
    """Return a Markov transition matrix as float64 `[V, V]` (non-negative, rows summing to 1), or raise."""
    try:
        P = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError):
        raise ProcessError(f"{field} must be a [V, V] numeric matrix, got {type(matrix).__name__}") from None
    if P.ndim != 2 or P.shape[0] != P.shape[1] or P.shape[0] < 1:
        raise ProcessError(f"{field} must have shape [V, V] (row = current token, column = next), got {list(P.shape)}")
    bad = np.argwhere(~np.isfinite(P) | (P < 0))
    if len(bad):
        i, j = bad[0]
        raise ProcessError(f"{field}[{i}, {j}] = {P[i, j]} is invalid: entries must be finite and non-negative")
    worst = int(np.argmax(np.abs(P.sum(axis=1) - 1.0)))
    if abs(P[worst].sum() - 1.0) > ROW_SUM_TOL:
        raise ProcessError(
            f"{field}: rows must sum to 1 (tolerance {ROW_SUM_TOL}); row {worst} sums to {P[worst].sum():.8g}"
        )
    return P


def markov_chain(
    matrix_VxV, first: str = "stationary", *, name: str = "markov_chain", params: dict | None = None
) -> Process:
    """A Markov chain `P[i, j] = P(next token j | token i)` as an HMM whose state is the last token.

    `first="stationary"`: x_0 comes from the chain's stationary distribution (it must be unique, i.e. the
    chain irreducible); S = V states, `T[x][i, x] = P[i, x]`, and the process is stationary.
    `first="uniform"`: x_0 is uniform over the V tokens, through an extra start state (state V, the initial
    belief) that only the first token leaves; S = V + 1. This is the convention of `DirichletMarkov` and
    `markov_pool`, under which in-context bigram counts carry all the evidence about the matrix.
    """
    P = check_transition_matrix(matrix_VxV)
    if first not in FIRST_TOKEN:
        raise ProcessError(f"first={first!r} is invalid: one of {list(FIRST_TOKEN)}")
    V = len(P)
    S = V if first == "stationary" else V + 1
    T = np.zeros((V, S, S))
    T[np.arange(V), :V, np.arange(V)] = P.T  # T[x, i, x] = P[i, x]
    initial = None
    if first == "uniform":
        T[np.arange(V), V, np.arange(V)] = 1.0 / V
        initial = np.eye(S)[V]
    try:
        return from_matrices(T, name=name, params=params or dict(vocab_size=V, first=first), initial_belief=initial)
    except ProcessError as err:
        raise ProcessError(f"markov_chain needs an irreducible chain (one recurrent class): {err}") from None


def check_pool(matrices_MxVxV, weights=None):
    """A validated pool of chains: matrices `[M, V, V]` float64 and log-weights `[M]` (default uniform)."""
    if isinstance(matrices_MxVxV, (str, bytes)) or np.ndim(matrices_MxVxV) != 3:
        raise ProcessError(f"matrices must have shape [M, V, V] (M chains), got {np.shape(matrices_MxVxV)}")
    matrices = np.stack([check_transition_matrix(P, f"matrices[{m}]") for m, P in enumerate(matrices_MxVxV)])
    M = len(matrices)
    return matrices, np.log(np.full(M, 1.0 / M) if weights is None else check_weights(weights, M))


def pool_matrices(vocab_size: int, alpha: float, num_chains: int, seed: int) -> np.ndarray:
    """`num_chains` transition matrices `[M, V, V]`, every row drawn from Dirichlet(alpha), seeded (numpy)."""
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.full(vocab_size, alpha), size=(num_chains, vocab_size))


def markov_pool_matrices(process) -> np.ndarray:
    """The chains `[M, V, V]` behind a `markov_pool` process (from its parameters), or a ProcessError."""
    if getattr(process, "name", None) != "markov_pool" or not hasattr(process, "param_dict"):
        name = getattr(process, "name", type(process).__name__)
        raise ProcessError(f"process {name!r} is not a markov_pool process (a pool of Markov chains)")
    p = process.param_dict
    return pool_matrices(p["vocab_size"], p["alpha"], p["num_chains"], p["seed"])


@register(
    "markov_pool",
    "A pool of Markov chains drawn once from a Dirichlet prior; each sequence uses one chain"
    " (uniform weights); the first token is uniform",
    vocab_size=Param(3, 1, 64, integer=True),
    alpha=Param(1.0, 0.0, 1e6, low_open=True),
    num_chains=Param(4, 1, 4096, integer=True),
    seed=Param(0, 0, 2**31 - 1, integer=True),
)
def markov_pool(vocab_size: int, alpha: float, num_chains: int, seed: int) -> Process:
    """`mixture` of `num_chains` uniform-first Markov chains from `pool_matrices`, with uniform weights.

    Its states are (chain, last token or start): S = M (V + 1). For pools too large for dense matrices use
    `pool_matrices` with `sample_pool` and `pool_predictive`, which never build the process.
    """
    chains = [markov_chain(P, first="uniform") for P in pool_matrices(vocab_size, alpha, num_chains, seed)]
    return mixture(
        chains, name="markov_pool", params=dict(vocab_size=vocab_size, alpha=alpha, num_chains=num_chains, seed=seed)
    )
