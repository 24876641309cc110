"""Generalized HMMs (negative entries allowed, right vector w) from the literature."""

import math

import numpy as np

from hmm.process import from_matrices, generalized_from_matrices
from hmm.registry import Param, register


@register(
    "post_quantum",
    "Post-quantum generalized HMM: 3 tokens, 3 states (needs alpha > 1 > beta > 0)",
    alpha=Param(math.e, 1.0, math.inf, low_open=True),
    beta=Param(0.5, 0.0, 1.0, low_open=True, high_open=True),
)
def post_quantum(alpha: float, beta: float):
    """Post-quantum process; matrices divided by the spectral radius of their sum, w its right eigenvector."""
    T = np.stack(
        [
            np.outer([1.0, 1.0, 0.0], [1.0, -1.0, -1.0]),
            np.array([[alpha, 0, 0], [0, 1, 0], [0, math.log(alpha), 1]]),
            np.array([[beta, 0, 0], [0, 1, 0], [0, math.log(beta), 1]]),
        ]
    )
    T = T / np.max(np.abs(np.linalg.eigvals(T.sum(axis=0))))
    return generalized_from_matrices(T, name="post_quantum", params=dict(alpha=alpha, beta=beta))


@register(
    "bloch_walk",
    "Bloch-sphere walk: measure z or x with a rotation; 4 tokens, basis [trace, b_x, b_z]",
    phi=Param(1.0, 0.0, math.pi, low_open=True, high_open=True),
    p_z=Param(0.5, 0.0, 1.0),
)
def bloch_walk(phi: float, p_z: float):
    """Tokens z+, z-, x+, x-: measure z with prob p_z (else x); state vector [1, b_x, b_z], w = e_0."""
    s, c = math.sin(phi), math.cos(phi)
    p_x = 1.0 - p_z

    def measurement(p, sign, axis):
        M = np.diag([1.0, c, c])
        M[axis, axis] = 1.0
        M[0, axis] = M[axis, 0] = sign * s
        return p / 2 * M

    T = np.stack([measurement(p_z, +1, 2), measurement(p_z, -1, 2), measurement(p_x, +1, 1), measurement(p_x, -1, 1)])
    return from_matrices(T, np.array([1.0, 0.0, 0.0]), name="bloch_walk", params=dict(phi=phi, p_z=p_z))


@register(
    "fanizza",
    "Fanizza's generalized HMM: 2 tokens, 4 states, no finite HMM equivalent",
    alpha=Param(2000.0),
    lam=Param(0.49, 0.0, 1.0, low_open=True, high_open=True),
)
def fanizza(alpha: float, lam: float):
    """Fanizza process: T[a] = r pi0^T (rank one), T[b] = lam diag(0, 1, R(alpha)).

    `r` = [1, 1-lam, 1+lam(sin a - cos a), 1-lam(sin a + cos a)] is the state that token `a` resets to;
    the vector conserved by sum_x T[x] (the process's right vector w) is all ones, and the
    stationary vector is the left unit eigenvector, not the reset vector pi0.
    """
    sa, ca = math.sin(alpha), math.cos(alpha)
    D = 1 - 2 * lam * ca + lam**2
    a = (1 - lam * ca + lam * sa) / D
    b = (1 - lam * ca - lam * sa) / D
    pi0 = np.array([1 - (2 / (1 - lam) - a - b) / 4, 1 / (2 * (1 - lam)), -a / 4, -b / 4])
    reset = np.array([1.0, 1 - lam, 1 + lam * (sa - ca), 1 - lam * (sa + ca)])
    Tb = np.zeros((4, 4))
    Tb[1, 1] = lam
    Tb[2:, 2:] = lam * np.array([[ca, -sa], [sa, ca]])
    T = np.stack([np.outer(reset, pi0), Tb])
    return from_matrices(T, np.ones(4), name="fanizza", params=dict(alpha=alpha, lam=lam))
