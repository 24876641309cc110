"""Exact N-step predictive distributions of a process from a belief: `P(x_{t+1+N} = x | eta)`."""

import numpy as np

import hmm
from analysis.lenses.inputs import LensInputError

MAX_HORIZON = 3


def check_horizons(horizons) -> tuple[int, ...]:
    """Horizons `N` (0 = the next token) as a tuple, each in 0..MAX_HORIZON, or a one-line error."""
    horizons = tuple(int(n) for n in horizons)
    bad = [n for n in horizons if not 0 <= n <= MAX_HORIZON]
    if not horizons or bad:
        raise LensInputError(f"future-lens horizons {list(horizons)} are invalid: each N must be in 0..{MAX_HORIZON}")
    return horizons


def n_step_predictive(process: hmm.Process, beliefs_NxS, n: int) -> np.ndarray:
    """`P(x) = eta Tbar^n T[x] w / (eta w)` with `Tbar = sum_x T[x]`: the distribution of the token n steps
    after the next one, marginalising the tokens in between. `[N, S] -> [N, V]` float64."""
    if n < 0:
        raise LensInputError(f"horizon N={n} is invalid: must be >= 0")
    T = np.asarray(process.transition_matrices, np.float64)
    w = np.asarray(process.right_vector, np.float64)
    eta = np.asarray(beliefs_NxS, np.float64)
    for _ in range(n):
        eta = eta @ T.sum(0)
    unnorm_NxV = np.einsum("ns,vst,t->nv", eta, T, w)
    return unnorm_NxV / (np.asarray(beliefs_NxS, np.float64) @ w)[:, None]
