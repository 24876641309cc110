"""HMMs from the literature, each registered with its parameter ranges (matrix form T[x, i, j])."""

import numpy as np

from hmm.errors import ProcessError
from hmm.process import from_matrices
from hmm.registry import Param, register

_PROB_OPEN = dict(low=0.0, high=1.0, low_open=True, high_open=True)


@register(
    "mess3",
    "Mess3 (Marzen & Crutchfield 2017): 3 states, 3 tokens, fractal mixed-state presentation",
    x=Param(0.05, 0.0, 0.5, low_open=True),
    alpha=Param(0.85, 0.0, 1.0),
)
def mess3(x: float, alpha: float):
    """Mess3: stay with prob 1-2x, hop to each other state with x; emit the new state's token with alpha."""
    beta = (1.0 - alpha) / 2.0
    A = np.full((3, 3), x) + np.eye(3) * (1.0 - 3.0 * x)  # y = 1 - 2x on the diagonal
    E = np.full((3, 3), beta) + np.eye(3) * (alpha - beta)  # E[j, a] = P(emit a | entered j)
    T = np.einsum("ij,ja->aij", A, E)
    return from_matrices(T, name="mess3", params=dict(x=x, alpha=alpha))


def _rrxor_matrices(p1: float, p2: float) -> np.ndarray:
    S, Z, O, Tr, F = range(5)  # start, saw 0, saw 1, XOR true (emit 1 next), XOR false (emit 0 next)
    T = np.zeros((2, 5, 5))
    T[0, S, Z], T[1, S, O] = p1, 1 - p1
    T[0, Z, F], T[1, Z, Tr] = p2, 1 - p2
    T[0, O, Tr], T[1, O, F] = p2, 1 - p2
    T[0, F, S] = 1.0
    T[1, Tr, S] = 1.0
    return T


@register(
    "rrxor",
    "Random-random-XOR: two random bits then their XOR; 5 states, period 3",
    p1=Param(0.5, **_PROB_OPEN),
    p2=Param(0.5, **_PROB_OPEN),
)
def rrxor(p1: float, p2: float):
    """RRXOR: states S, 0, 1, T, F; p1 = P(first bit 0), p2 = P(second bit 0)."""
    return from_matrices(_rrxor_matrices(p1, p2), name="rrxor", params=dict(p1=p1, p2=p2))


@register(
    "leaky_rrxor",
    "RRXOR mixed with uniform noise: (1-eps) T_rrxor + eps/10 on every entry",
    p1=Param(0.5, **_PROB_OPEN),
    p2=Param(0.5, **_PROB_OPEN),
    eps=Param(0.05, 0.0, 1.0),
)
def leaky_rrxor(p1: float, p2: float, eps: float):
    """Leaky RRXOR: every (token, next state) pair gets probability eps/10 on top of (1-eps) RRXOR."""
    T = (1 - eps) * _rrxor_matrices(p1, p2) + eps / 10.0
    return from_matrices(T, name="leaky_rrxor", params=dict(p1=p1, p2=p2, eps=eps))


@register("z1r", "Zero-One-Random: emits 0, 1, then a random bit; 3 states", p=Param(0.5, 0.0, 1.0))
def z1r(p: float):
    """Z1R with states 0, 1, R; p = P(emit 0 | in R)."""
    T = np.zeros((2, 3, 3))
    T[0, 0, 1] = 1.0
    T[1, 1, 2] = 1.0
    T[0, 2, 0], T[1, 2, 0] = p, 1 - p
    return from_matrices(T, name="z1r", params=dict(p=p))


@register("even", "Even process: runs of 1s have even length; 2 states", p=Param(0.5, **_PROB_OPEN))
def even(p: float):
    """Even process; p = P(emit 0 | in state A)."""
    T = np.array([[[p, 0.0], [0.0, 0.0]], [[0.0, 1 - p], [1.0, 0.0]]])
    return from_matrices(T, name="even", params=dict(p=p))


@register("golden_mean", "Golden mean: no two consecutive 1s; 2 states", p=Param(0.5, 0.0, 1.0, low_open=True))
def golden_mean(p: float):
    """Golden mean process; p = P(emit 1 | in state A)."""
    T = np.array([[[1 - p, 0.0], [1.0, 0.0]], [[0.0, p], [0.0, 0.0]]])
    return from_matrices(T, name="golden_mean", params=dict(p=p))


@register(
    "sns",
    "Simple non-unifilar source: 2 states, infinite mixed-state presentation",
    p=Param(0.5, 0.0, 1.0, low_open=True),
    q=Param(0.5, 0.0, 1.0, low_open=True),
)
def sns(p: float, q: float):
    """SNS; p = P(A -> B, emitting 0), q = P(B -> A, emitting 1)."""
    T = np.array([[[1 - p, p], [0.0, 1 - q]], [[0.0, 0.0], [q, 0.0]]])
    return from_matrices(T, name="sns", params=dict(p=p, q=q))


@register(
    "random_hmm",
    "Random HMM: each state's (token, next state) row drawn from a Dirichlet",
    num_states=Param(4, 1, 64, integer=True),
    vocab_size=Param(3, 1, 64, integer=True),
    seed=Param(0, 0, 2**31 - 1, integer=True),
    concentration=Param(1.0, 0.0, 1e6, low_open=True),
)
def random_hmm(num_states: int, vocab_size: int, seed: int, concentration: float):
    """Random HMM: rows of the joint over (token, next state) ~ Dirichlet(concentration), seeded."""
    rng = np.random.default_rng(seed)
    rows = rng.dirichlet(np.full(vocab_size * num_states, concentration), size=num_states)
    T = rows.reshape(num_states, vocab_size, num_states).transpose(1, 0, 2)
    try:
        return from_matrices(
            T,
            name="random_hmm",
            params=dict(num_states=num_states, vocab_size=vocab_size, seed=seed, concentration=concentration),
        )
    except ProcessError as err:
        raise ProcessError(
            f"random_hmm(seed={seed}) drew a non-ergodic process ({err}); try another seed or a larger concentration"
        ) from None
