"""Checks on transition matrices, each failing with a message that names the problem."""

import numpy as np

from hmm.errors import ProcessError

ROW_SUM_TOL = 1e-6
EIGEN_TOL = 1e-8


def as_matrices(transition_matrices) -> np.ndarray:
    """Return `T` as float64 `[V, S, S]`, or raise naming the shape or the bad entries."""
    try:
        T = np.asarray(transition_matrices, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ProcessError(f"transition_matrices must be numeric nested lists or an array: {err}") from None
    if T.ndim != 3 or T.shape[1] != T.shape[2] or T.shape[0] < 1 or T.shape[1] < 1:
        raise ProcessError(f"transition_matrices must have shape [V, S, S] (V tokens, S states), got {list(T.shape)}")
    bad = np.argwhere(~np.isfinite(T))
    if len(bad):
        x, i, j = bad[0]
        raise ProcessError(
            f"transition_matrices contain {len(bad)} NaN/inf entries, first at T[{x}, {i}, {j}] = {T[x, i, j]}"
        )
    return T


def check_hmm(T: np.ndarray) -> None:
    """An HMM needs non-negative entries and row-stochastic `sum_x T[x]`."""
    neg = np.argwhere(T < 0)
    if len(neg):
        x, i, j = neg[0]
        raise ProcessError(
            f"an HMM's transition_matrices must be non-negative; T[{x}, {i}, {j}] = {T[x, i, j]:.6g}"
            " (use a generalized HMM with a right vector w for negative entries)"
        )
    row_sums = T.sum(axis=(0, 2))
    worst = int(np.argmax(np.abs(row_sums - 1.0)))
    if abs(row_sums[worst] - 1.0) > ROW_SUM_TOL:
        raise ProcessError(
            f"rows of sum_x T[x] must sum to 1 (tolerance {ROW_SUM_TOL}); worst is row {worst} (state {worst})"
            f" with sum {row_sums[worst]:.8g}"
        )


def as_right_vector(w, num_states: int) -> np.ndarray:
    """Return `w` as float64 `[S]`, or raise naming its shape or bad entries."""
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (num_states,):
        raise ProcessError(f"right vector w must have shape [{num_states}], got {list(w.shape)}")
    if not np.all(np.isfinite(w)):
        raise ProcessError(f"right vector w contains NaN/inf: {w.tolist()}")
    return w


def check_right_eigenvector(T: np.ndarray, w: np.ndarray) -> None:
    """A generalized HMM conserves probability: `(sum_x T[x]) w = w`."""
    residual = T.sum(axis=0) @ w - w
    worst = int(np.argmax(np.abs(residual)))
    if abs(residual[worst]) > ROW_SUM_TOL * max(1.0, np.abs(w).max()):
        raise ProcessError(f"(sum_x T[x]) w must equal w; component {worst} is off by {residual[worst]:.6g}")


def unit_eigenvector(M: np.ndarray, side: str) -> np.ndarray:
    """The unique eigenvector of `M` for eigenvalue 1 (`side` 'left' or 'right'), else a non-ergodic error."""
    values, vectors = np.linalg.eig(M.T if side == "left" else M)
    at_one = np.flatnonzero(np.abs(values - 1.0) < EIGEN_TOL)
    if len(at_one) != 1:
        raise ProcessError(
            f"the stationary distribution is not unique: sum_x T[x] has {len(at_one)} eigenvalues equal to 1"
            " (the process must be ergodic: one recurrent class; hmm.mixture states a prior over several)"
        )
    return np.real(vectors[:, at_one[0]])


def as_initial_belief(initial_belief, w: np.ndarray, generalized: bool) -> np.ndarray:
    """Return a declared initial belief as float64 `[S]`, or raise naming its shape, sign or normalisation."""
    try:
        eta = np.asarray(initial_belief, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ProcessError(f"initial_belief must be a numeric vector: {err}") from None
    if eta.shape != w.shape:
        raise ProcessError(f"initial_belief must have shape [{len(w)}] (one entry per state), got {list(eta.shape)}")
    if not np.all(np.isfinite(eta)):
        raise ProcessError(f"initial_belief contains NaN/inf: {eta.tolist()}")
    if not generalized and np.any(eta < 0):
        worst = int(np.argmin(eta))
        raise ProcessError(f"an HMM's initial_belief must be non-negative; entry {worst} is {eta[worst]:.6g}")
    if abs(eta @ w - 1.0) > ROW_SUM_TOL:
        raise ProcessError(f"initial_belief . w must be 1 (a probability vector for an HMM), got {eta @ w:.8g}")
    return eta
