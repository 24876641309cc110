"""Mixed-state tree and information quantities against the notes' check values and hand counts."""

import numpy as np
import pytest

import hmm
from tests.numpy_filter import numpy_filter

LN2 = np.log(2)


def test_mess3_myopic_entropy_check_values():
    h = hmm.myopic_entropy(hmm.get_process("mess3", x=0.05, alpha=0.85), 12)
    np.testing.assert_allclose(h[:5], [1.0986, 0.8577, 0.8134, 0.7981, 0.7947], atol=6e-5)
    assert h[-1] == pytest.approx(0.7935, abs=6e-5)
    assert np.all(np.diff(h) <= 1e-12), "myopic entropy must not increase"


def test_rrxor_myopic_entropy_check_values():
    h = hmm.myopic_entropy(hmm.get_process("rrxor"), 11)
    np.testing.assert_allclose(h[:5], [0.6931, 0.6931, 0.6365, 0.6285, 0.5987], atol=6e-5)
    assert h[10] < h[9], "still falling at L = 11"


def test_rrxor_has_36_distinct_beliefs_and_known_rates():
    p = hmm.get_process("rrxor")
    states = hmm.mixed_state_presentation(p, 10).states
    assert states.num_states == 36
    assert states.is_finite
    assert states.recurrent.sum() == 5
    assert hmm.entropy_rate(p, 10) / LN2 == pytest.approx(2 / 3, abs=1e-9)
    pi = np.array([2, 1, 1, 1, 1]) / 6
    assert hmm.statistical_complexity(p, 10) / LN2 == pytest.approx(-(pi * np.log2(pi)).sum(), abs=1e-9)


def test_mess3_presentation_is_infinite():
    p = hmm.get_process("mess3")
    assert not hmm.mixed_state_presentation(p, 6).states.is_finite
    assert hmm.statistical_complexity(p, 6) is None


def test_mess3_prefix_counts():
    tree = hmm.mixed_state_presentation(hmm.get_process("mess3"), 10)
    assert tree.num_prefixes == sum(3**k for k in range(1, 11)) == 88_572


@pytest.mark.parametrize("name", sorted(hmm.list_processes()))
def test_levels_sum_to_one_and_beliefs_are_normalised(name):
    p = hmm.get_process(name)
    tree = hmm.mixed_state_presentation(p, 6)
    for k in range(1, 7):
        assert tree.probs[tree.level(k)].sum() == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(tree.beliefs @ p.right_vector, 1.0, atol=1e-9)
    if not p.is_generalized:
        assert np.all(tree.beliefs >= 0)


def test_tree_beliefs_and_probabilities_match_a_numpy_filter():
    p = hmm.get_process("z1r", p=0.3)
    tree = hmm.mixed_state_presentation(p, 7)
    tokens, probs, beliefs = tree.sequences(7)
    expected, logp = numpy_filter(p.transition_matrices, p.right_vector, p.stationary_distribution, tokens)
    np.testing.assert_allclose(beliefs, expected, atol=1e-12)
    np.testing.assert_allclose(probs, np.exp(logp), rtol=1e-10)


def test_min_prob_prunes_improbable_prefixes():
    p = hmm.get_process("mess3")
    full = hmm.mixed_state_presentation(p, 6)
    pruned = hmm.mixed_state_presentation(p, 6, min_prob=1e-3)
    assert pruned.num_prefixes < full.num_prefixes
    assert pruned.probs.min() >= 1e-3


def test_block_entropy_is_cumulative_and_optimal_loss_averages_h():
    p = hmm.get_process("mess3")
    h = hmm.myopic_entropy(p, 11)
    H = hmm.block_entropy(p, 11)
    # block entropy computed directly from the length-3 sequence probabilities
    probs = hmm.mixed_state_presentation(p, 3).sequences(3)[1]
    assert H[3] == pytest.approx(-(probs * np.log(probs)).sum(), abs=1e-12)
    assert hmm.optimal_loss(p, 10) == pytest.approx(h[1:11].mean())
    assert hmm.optimal_loss(p, 10, bos=True) == pytest.approx(h[:10].mean())
