"""Information quantities from the mixed-state tree, in nats: myopic and block entropy, rates, complexity."""

import numpy as np

from hmm.msp import mixed_state_presentation
from hmm.process import Process
from hmm.sampling import predictive_distribution


def _entropy(p: np.ndarray) -> np.ndarray:
    """Shannon entropy (nats) along the last axis; tiny negative round-off of a generalized HMM is clipped."""
    p = np.clip(p, 0.0, None)
    return -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), axis=-1)


def myopic_entropy(process: Process, max_len: int, tree=None) -> np.ndarray:
    """`h[L-1] = H(X_{L-1} | X_0..X_{L-2})` for L = 1..max_len, exactly; `h[0] = H(X_0)`.

    Sequences start at the process's initial belief (the stationary one unless declared, e.g. a mixture's prior).

    Reuses `tree` when it is unpruned and reaches depth max_len - 1 or more.
    """
    h = np.empty(max_len)
    h[0] = _entropy(predictive_distribution(process, process.initial_belief))
    if max_len > 1:
        if tree is None or tree.max_len < max_len - 1 or tree.min_prob > 0:
            tree = mixed_state_presentation(process, max_len - 1)
        rows = slice(0, int(tree.level_starts[max_len - 1]))
        per_prefix = tree.probs[rows] * _entropy(predictive_distribution(process, tree.beliefs[rows]))
        h[1:] = np.add.reduceat(per_prefix, tree.level_starts[: max_len - 1])
    return h


def block_entropy(process: Process, max_len: int) -> np.ndarray:
    """`H(L) = H(X_0..X_{L-1})` for L = 0..max_len (H(0) = 0)."""
    return np.concatenate([[0.0], np.cumsum(myopic_entropy(process, max_len))])


def _finite_states(process: Process, max_len: int, tree):
    if tree is None or tree.max_len != max_len or tree.min_prob > 0:
        tree = mixed_state_presentation(process, max_len)
    return tree.states if tree.states.is_finite else None


def entropy_rate(process: Process, max_len: int = 12, tree=None) -> float:
    """Entropy rate: exact from the recurrent states when the presentation closes within `max_len`,
    otherwise the myopic entropy `h(max_len)`, an upper bound that converges from above."""
    states = _finite_states(process, max_len, tree)
    if states is None:
        return float(myopic_entropy(process, max_len, tree)[-1])
    return float(states.stationary @ _entropy(predictive_distribution(process, states.beliefs)))


def statistical_complexity(process: Process, max_len: int = 12, tree=None) -> float | None:
    """Entropy (nats) of the stationary distribution over the recurrent belief states, when the
    presentation is finite within `max_len`; None for an infinite (e.g. fractal) presentation."""
    states = _finite_states(process, max_len, tree)
    if states is None:
        return None
    return float(_entropy(states.stationary))


def optimal_loss(process: Process, n_ctx: int, bos: bool = False, tree=None) -> float:
    """Least achievable mean cross-entropy (nats) over the n_ctx positions of a model aligned as in docs/design.md.

    Without BOS, inputs x_0..x_{n-1} predict x_1..x_n: mean of h over lengths 2..n+1.
    With BOS, position 0 predicts x_0 from nothing: mean of h over lengths 1..n.
    `tree` (depth n_ctx or more, unpruned) is reused.
    """
    h = myopic_entropy(process, n_ctx + 1, tree)
    return float(np.mean(h[:n_ctx] if bos else h[1:]))
