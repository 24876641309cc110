"""Distinct belief states of a mixed-state tree, their transition graph when finite, and its recurrent part."""

from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import connected_components

from hmm.errors import ProcessError
from hmm.msp import ZERO_PROB


@dataclass(frozen=True)
class DistinctStates:
    """Distinct beliefs (state 0 is the root). `prefix_state[i]` is the state of tree row i.

    When no new belief appears at the deepest level the presentation is finite: `transitions[x, i, j]`
    is P(emit x and move to state j | state i), and `recurrent` marks the closed classes (the causal
    states; a mixture can have one per component).
    """

    beliefs: np.ndarray  # [K, S]
    prefix_state: np.ndarray  # [N] int
    mass: np.ndarray  # [K] summed probability of the prefixes in each state (root excluded)
    is_finite: bool
    transitions: np.ndarray | None  # [V, K, K]
    recurrent: np.ndarray | None  # [K] bool
    stationary: np.ndarray | None  # [K] stationary distribution over the recurrent states (0 elsewhere)

    @property
    def num_states(self) -> int:
        return len(self.beliefs)


def _grid_keys(beliefs: np.ndarray, tol: float) -> np.ndarray:
    """One int64 hash per row of beliefs rounded to a grid of spacing `tol`."""
    grid = np.round(beliefs / tol).astype(np.int64)
    multipliers = np.random.default_rng(0).integers(1, 2**62, size=beliefs.shape[1]) | 1
    return grid @ multipliers, grid


def unique_beliefs(beliefs: np.ndarray, tol: float):
    """`(first [K], state_of [N])`: rows equal on a grid of spacing `tol` share a state; states are
    numbered by first appearance, `first[k]` is the row where state k first appears."""
    keys, grid = _grid_keys(beliefs, tol)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    if not np.array_equal(grid[first[inverse]], grid):  # a hash collision: fall back to exact rows
        _, first, inverse = np.unique(grid, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first)  # number states by first appearance, so the root is state 0
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order], rank[inverse.ravel()]


def _transitions(process, state_beliefs: np.ndarray, tol: float) -> np.ndarray:
    """Labelled transition matrices among a closed set of beliefs: `[V, K, K]`."""
    T, w = process.transition_matrices, process.right_vector
    V, K = process.vocab_size, len(state_beliefs)
    next_KxVxS = np.einsum("ks,vst->kvt", state_beliefs, T)
    cond_KxV = next_KxVxS @ w
    known_keys, _ = _grid_keys(state_beliefs, tol)
    order = np.argsort(known_keys)
    out = np.zeros((V, K, K))
    src, sym = np.nonzero(cond_KxV > ZERO_PROB)
    child_keys, _ = _grid_keys(next_KxVxS[src, sym] / cond_KxV[src, sym, None], tol)
    pos = np.clip(np.searchsorted(known_keys, child_keys, sorter=order), 0, K - 1)
    if not np.array_equal(known_keys[order[pos]], child_keys):
        raise ProcessError("a successor belief was not among the distinct states; increase state_tol")
    out[sym, src, order[pos]] = cond_KxV[src, sym]
    return out


def _class_stationary(M: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Stationary distribution of the closed class `members` (a boolean mask), zero elsewhere."""
    values, vectors = np.linalg.eig(M[np.ix_(members, members)].T)
    pi = np.real(vectors[:, np.argmin(np.abs(values - 1))])
    out = np.zeros(len(M))
    out[members] = pi / pi.sum()
    return out


def _absorption(M: np.ndarray, closed_masks: list) -> np.ndarray:
    """P(the walk from state 0, the root, ends in each closed class): `[n_classes]`."""
    recurrent = np.any(closed_masks, axis=0)
    if recurrent[0]:
        return np.array([float(mask[0]) for mask in closed_masks])
    transient = ~recurrent
    Q = M[np.ix_(transient, transient)]
    R = np.stack([M[np.ix_(transient, mask)].sum(axis=1) for mask in closed_masks], axis=1)
    return np.linalg.solve(np.eye(len(Q)) - Q, R)[0]  # state 0 is the first transient state


def _recurrent_class(transitions: np.ndarray):
    """The closed classes of the state graph and the long-run distribution over them from the root.

    An ergodic process has one closed class (its causal states). A mixture may have several (one per
    component once the data identify it): each class's stationary distribution is weighted by the
    probability that the root's walk ends in it.
    """
    M = transitions.sum(axis=0)
    n, labels = connected_components(M > 0, directed=True, connection="strong")
    closed = [labels == c for c in range(n) if not np.any(M[labels == c][:, labels != c] > 0)]
    reach = _absorption(M, closed)
    stationary = sum(p * _class_stationary(M, mask) for p, mask in zip(reach, closed))
    return np.any(closed, axis=0), stationary


def distinct_states(tree) -> DistinctStates:
    """Merge the tree's beliefs (and the root) into distinct states on a grid of spacing `tree.state_tol`."""
    all_beliefs = np.concatenate([tree.root_belief[None], tree.beliefs])
    first, state_of = unique_beliefs(all_beliefs, tree.state_tol)
    last_level_start = 1 + tree.level_starts[-2]
    is_finite = bool(np.all(first < last_level_start))
    beliefs = all_beliefs[first]
    transitions = recurrent = stationary = None
    if is_finite:
        transitions = _transitions(tree.process, beliefs, tree.state_tol)
        recurrent, stationary = _recurrent_class(transitions)
    return DistinctStates(
        beliefs=beliefs,
        prefix_state=state_of[1:],
        mass=np.bincount(state_of[1:], weights=tree.probs, minlength=len(first)),
        is_finite=is_finite,
        transitions=transitions,
        recurrent=recurrent,
        stationary=stationary,
    )
