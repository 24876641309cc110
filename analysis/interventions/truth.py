"""Ground truth from the process: Bayes predictions of beliefs, beliefs carried along tokens, KL divergences."""

import numpy as np

import hmm
from models.config import ConfigError

SIMPLEX_TOL = 1e-6


def bayes_prediction(process: hmm.Process, beliefs_NxS) -> np.ndarray:
    """`P(next token | belief)` `[N, V]` in float64."""
    return np.asarray(hmm.predictive_distribution(process, np.asarray(beliefs_NxS, np.float64)))


def continue_beliefs(process: hmm.Process, eta_NxS, tokens_NxK):
    """Each belief updated along its row of tokens: `(beliefs [N, K, S], possible [N, K])`.

    `beliefs[:, k]` has seen `tokens[:, :k+1]`; `possible[:, k]` is False once a token had probability 0 under the
    belief (the belief is then undefined and left at its last value).
    """
    T = np.asarray(process.transition_matrices, np.float64)
    w = np.asarray(process.right_vector, np.float64)
    eta = np.asarray(eta_NxS, np.float64)
    tokens_NxK = np.asarray(tokens_NxK)
    N, K = tokens_NxK.shape
    out, possible = np.empty((N, K, eta.shape[1])), np.ones((N, K), bool)
    alive = np.ones(N, bool)
    for k in range(K):  # a loop over at most a context of positions, vectorised over rows
        nxt = np.einsum("ns,nst->nt", eta, T[tokens_NxK[:, k]])
        norm = nxt @ w
        alive &= norm > 1e-12 * np.maximum(eta @ w, 1e-300)
        eta = np.where(alive[:, None], nxt / np.where(alive, norm, 1.0)[:, None], eta)
        out[:, k], possible[:, k] = eta, alive
    return out, possible


def kl(p_NxV, log_q_NxV) -> np.ndarray:
    """`KL(p || q)` per row, in nats, with `0 log 0 = 0`; `log_q` as log-probabilities."""
    p = np.asarray(p_NxV, np.float64)
    log_q = np.asarray(log_q_NxV, np.float64)
    log_p = np.log(np.where(p > 0, p, 1.0))
    return np.sum(np.where(p > 0, p * (log_p - log_q), 0.0), axis=-1)


def check_belief(process: hmm.Process, belief, name: str = "target belief") -> np.ndarray:
    """A belief as `[S]` float64, or a ConfigError: S entries, >= 0 and summing to 1 (for a generalized HMM,
    `belief . w = 1` and a non-negative Bayes prediction)."""
    eta = np.asarray(belief, np.float64).reshape(-1)
    S = process.num_states
    if eta.shape != (S,) or not np.all(np.isfinite(eta)):
        raise ConfigError(f"{name}={eta.tolist()} is invalid: needs {S} finite numbers, one per state")
    w = np.asarray(process.right_vector, np.float64)
    if process.is_generalized:
        ok = abs(eta @ w - 1.0) <= SIMPLEX_TOL and np.all(bayes_prediction(process, eta[None]) >= -SIMPLEX_TOL)
        allowed = "belief . w must be 1 and its Bayes prediction non-negative"
    else:
        ok = np.all(eta >= -SIMPLEX_TOL) and abs(eta.sum() - 1.0) <= SIMPLEX_TOL
        allowed = "entries must be >= 0 and sum to 1 (a point of the simplex)"
    if not ok:
        raise ConfigError(f"{name}={eta.tolist()} is off the simplex: {allowed}")
    return eta
