"""The mixed-state tree of mixtures, on both belief-update paths (one dense product for few states, one product per
block for many), with and without pruning, against a plain numpy filter run on every sequence."""

import itertools

import numpy as np
import pytest

import hmm
from hmm.msp import DENSE_MAX_STATES
from tests.numpy_filter import numpy_filter


def _rrxor_pool(n: int) -> hmm.Process:
    """`n` RRXOR components (5 states each, many impossible branches) with different bit biases."""
    ps = np.linspace(0.2, 0.8, n)
    return hmm.mixture([hmm.get_process("rrxor", p1=p, p2=1 - p) for p in ps], np.arange(1, n + 1) / (n * (n + 1) / 2))


MIXTURES = {
    "dense, zero branches": hmm.mixture(
        [hmm.get_process("rrxor"), hmm.get_process("z1r", p=0.3), hmm.get_process("golden_mean")], [0.5, 0.3, 0.2]
    ),
    "per block, zero branches": _rrxor_pool(7),
    "dense, full support": hmm.mixture(
        [hmm.get_process("mess3"), hmm.get_process("mess3", x=0.15, alpha=0.6)], [0.4, 0.6]
    ),
}


def _expected_level(process: hmm.Process, length: int, min_prob: float):
    """Every sequence of `length` whose prefixes are all possible and at least `min_prob` likely: codes, beliefs
    after it and probabilities, by a numpy filter from the initial belief."""
    V = process.vocab_size
    tokens = np.array(list(itertools.product(range(V), repeat=length)))
    T, w, eta0 = (
        np.asarray(a, np.float64) for a in (process.transition_matrices, process.right_vector, process.initial_belief)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        beliefs, _ = numpy_filter(T, w, eta0, tokens)
        prefix_probs = np.stack([numpy_filter(T, w, eta0, tokens[:, : k + 1])[1] for k in range(length)], 1)
    alive = np.all(np.exp(prefix_probs) > 0, 1) & np.all(np.exp(prefix_probs) >= min_prob, 1)
    codes = tokens[alive] @ V ** np.arange(length - 1, -1, -1)
    return codes, beliefs[alive, -1], np.exp(prefix_probs[alive, -1])


@pytest.mark.parametrize("name", list(MIXTURES))
@pytest.mark.parametrize("min_prob", [0.0, 1e-2])
def test_mixture_tree_matches_a_numpy_filter_on_every_sequence(name, min_prob):
    process = MIXTURES[name]
    assert (process.num_states > DENSE_MAX_STATES) == name.startswith("per block")
    depth = 6
    tree = hmm.mixed_state_presentation(process, depth, min_prob=min_prob)
    for length in range(1, depth + 1):
        codes, beliefs, probs = _expected_level(process, length, min_prob)
        rows = tree.level(length)
        np.testing.assert_array_equal(tree.codes[rows], codes)
        np.testing.assert_allclose(tree.beliefs[rows], beliefs, atol=1e-12)
        np.testing.assert_allclose(tree.probs[rows], probs, rtol=1e-10)
