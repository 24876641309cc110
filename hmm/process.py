"""A process is data: transition matrices, a right vector, its stationary and initial beliefs, and a name."""

from dataclasses import dataclass, field

import jax
import numpy as np

from hmm.errors import ProcessError
from hmm.validation import (
    as_initial_belief,
    as_matrices,
    as_right_vector,
    check_hmm,
    check_right_eigenvector,
    unit_eigenvector,
)


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Process:
    """An edge-emitting (generalized) HMM: `T[x, i, j] = P(emit x, go to j | in i)`.

    For a generalized HMM, `P(x | eta) = eta T[x] w / (eta w)`; for an HMM `w` is all ones.
    Array fields are pytree leaves, so a Process can be passed into `jax.jit`.
    Build one with `from_matrices` (which validates), `get_process` or `mixture`.

    `initial_belief` is the belief before the first token: sampling, filtering, the mixed-state tree and
    the entropies start there. It is the stationary distribution unless the process declares another one
    (a mixture's prior over components, a Markov chain whose first token is uniform).
    `component_sizes` is empty for an ordinary process; for a mixture it lists each component's number
    of states, in order: its states are the blocks of `transition_matrices`' block-diagonal.
    """

    transition_matrices: np.ndarray  # [V, S, S]
    right_vector: np.ndarray  # [S]
    stationary_distribution: np.ndarray  # [S], normalised so pi . w = 1
    initial_belief: np.ndarray  # [S], normalised so eta_0 . w = 1
    name: str = field(default="custom", metadata=dict(static=True))
    params: tuple = field(default=(), metadata=dict(static=True))
    is_generalized: bool = field(default=False, metadata=dict(static=True))
    component_sizes: tuple = field(default=(), metadata=dict(static=True))

    @property
    def vocab_size(self) -> int:
        return self.transition_matrices.shape[0]

    @property
    def num_states(self) -> int:
        return self.transition_matrices.shape[1]

    @property
    def param_dict(self) -> dict:
        return dict(self.params)

    @property
    def is_mixture(self) -> bool:
        return bool(self.component_sizes)

    @property
    def blocks(self) -> tuple:
        """`(start, stop)` state ranges of the components (one block spanning all states if not a mixture)."""
        sizes = self.component_sizes or (self.num_states,)
        stops = np.cumsum(sizes).tolist()
        return tuple(zip([0] + stops[:-1], stops))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.params)
        kind = "generalized HMM" if self.is_generalized else "HMM"
        return f"Process({self.name}({args}), {kind}, V={self.vocab_size}, S={self.num_states})"


def from_matrices(
    transition_matrices, w=None, *, name: str = "custom", params: dict | None = None, initial_belief=None
) -> Process:
    """Validate `T` (and `w` for a generalized HMM) and build a Process.

    Without `w` the process is an HMM: entries must be non-negative and `sum_x T[x]` row-stochastic.
    With `w` (or with negative entries) it is a generalized HMM: `(sum_x T[x]) w = w` is required.
    The stationary distribution must be unique (one recurrent class; use `mixture` for several).
    `initial_belief` (default: the stationary distribution) is where every sequence starts.
    """
    T = as_matrices(transition_matrices)
    num_states = T.shape[1]
    if w is None:
        check_hmm(T)
        w = np.ones(num_states)
        generalized = False
    else:
        w = as_right_vector(w, num_states)
        check_right_eigenvector(T, w)
        generalized = not (np.all(T >= 0) and np.allclose(w, 1.0))
    pi = unit_eigenvector(T.sum(axis=0), side="left")
    norm = pi @ w
    if abs(norm) < 1e-12:
        raise ProcessError("the stationary vector is orthogonal to w, so it cannot be normalised (pi . w = 0)")
    pi = pi / norm
    if not generalized:
        pi = np.clip(pi, 0.0, None)
        pi = pi / pi.sum()
    initial = pi if initial_belief is None else as_initial_belief(initial_belief, w, generalized)
    return Process(
        transition_matrices=T,
        right_vector=w,
        stationary_distribution=pi,
        initial_belief=initial,
        name=name,
        params=tuple(sorted((params or {}).items())),
        is_generalized=generalized,
    )


def generalized_from_matrices(transition_matrices, *, name: str, params: dict) -> Process:
    """A generalized HMM whose `w` is the right eigenvector of `sum_x T[x]` for eigenvalue 1."""
    T = as_matrices(transition_matrices)
    w = unit_eigenvector(T.sum(axis=0), side="right")
    w = w / w[np.argmax(np.abs(w))]
    return from_matrices(T, w, name=name, params=params)
