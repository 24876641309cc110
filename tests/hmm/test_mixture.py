"""Mixtures of processes against brute-force sums over hidden paths and hand-derived posteriors."""

import itertools

import jax
import numpy as np
import pytest

import hmm
from hmm import ProcessError

KEY = jax.random.key(7)


def path_sum_prob(T, w, eta0, tokens):
    """P(tokens) = sum over every hidden path s_0..s_n of eta0[s_0] prod_k T[x_k, s_k, s_k+1] w[s_n] (numpy)."""
    S = len(eta0)
    total = 0.0
    for path in itertools.product(range(S), repeat=len(tokens) + 1):
        term = eta0[path[0]] * w[path[-1]]
        for k, x in enumerate(tokens):
            term *= T[x, path[k], path[k + 1]]
        total += term
    return total


def brute_force(components, weights, tokens):
    """P(component | tokens) [M] and P(next token | tokens) [V], from path sums per component."""
    V = components[0].vocab_size
    joint = np.array(
        [
            wt * path_sum_prob(c.transition_matrices, c.right_vector, c.stationary_distribution, tokens)
            for c, wt in zip(components, weights)
        ]
    )
    nxt = np.array(
        [
            [
                wt * path_sum_prob(c.transition_matrices, c.right_vector, c.stationary_distribution, [*tokens, v])
                for v in range(V)
            ]
            for c, wt in zip(components, weights)
        ]
    )
    return joint / joint.sum(), nxt.sum(0) / joint.sum()


MESS3_PAIR = [hmm.get_process("mess3", x=0.05, alpha=0.85), hmm.get_process("mess3", x=0.15, alpha=0.6)]


@pytest.mark.parametrize(
    "components, weights",
    [
        (MESS3_PAIR, [0.3, 0.7]),
        ([hmm.get_process("mess3"), hmm.get_process("post_quantum")], [0.6, 0.4]),  # a generalized HMM component
    ],
)
def test_posterior_and_prediction_match_path_sums(components, weights):
    mix = hmm.mixture(components, weights)
    tokens = np.array([[0, 0, 1, 2], [2, 2, 2, 0], [1, 0, 2, 1]])
    beliefs = np.asarray(hmm.beliefs(mix, tokens), np.float64)
    posterior = hmm.component_posterior(mix, beliefs)
    prediction = hmm.predictive_distribution(mix, beliefs)
    for b, seq in enumerate(tokens):
        for t in range(tokens.shape[1]):
            post, nxt = brute_force(components, weights, seq[: t + 1].tolist())
            np.testing.assert_allclose(posterior[b, t], post, atol=3e-5)
            np.testing.assert_allclose(prediction[b, t], nxt, atol=3e-5)
        expected = sum(
            wt * path_sum_prob(c.transition_matrices, c.right_vector, c.stationary_distribution, seq.tolist())
            for c, wt in zip(components, weights)
        )
        assert float(np.exp(hmm.sequence_log_prob(mix, tokens[b : b + 1])[0])) == pytest.approx(expected, rel=1e-4)
        full = path_sum_prob(mix.transition_matrices, mix.right_vector, mix.initial_belief, seq.tolist())
        assert full == pytest.approx(expected, rel=1e-10)


def test_mixed_state_tree_matches_path_sums():
    weights = [0.25, 0.75]
    mix = hmm.mixture(MESS3_PAIR, weights)
    tree = hmm.mixed_state_presentation(mix, 3)
    assert tree.num_prefixes == 3 + 9 + 27
    np.testing.assert_allclose(tree.root_belief, np.concatenate([0.25 * np.ones(3) / 3, 0.75 * np.ones(3) / 3]))
    tokens, probs, beliefs = tree.sequences(3)
    for seq, prob, belief in zip(tokens, probs, beliefs):
        post, _ = brute_force(MESS3_PAIR, weights, seq[:2].tolist())
        np.testing.assert_allclose(hmm.component_posterior(mix, belief[1]), post, atol=1e-10)
        assert prob == pytest.approx(
            sum(
                wt * path_sum_prob(c.transition_matrices, c.right_vector, c.stationary_distribution, seq.tolist())
                for c, wt in zip(MESS3_PAIR, weights)
            ),
            rel=1e-10,
        )


def test_prior_and_stationary_handling():
    mix = hmm.mixture(MESS3_PAIR + [hmm.get_process("mess3", x=0.1, alpha=0.7)], [0.2, 0.3, 0.5])
    assert mix.is_mixture and mix.component_sizes == (3, 3, 3) and mix.blocks == ((0, 3), (3, 6), (6, 9))
    np.testing.assert_allclose(hmm.mixture_weights(mix), [0.2, 0.3, 0.5])
    np.testing.assert_allclose(mix.initial_belief, np.repeat([0.2, 0.3, 0.5], 3) / 3)
    # any weighting of the components' stationary distributions is stationary for the block-diagonal sum
    pi = mix.stationary_distribution
    np.testing.assert_allclose(pi @ mix.transition_matrices.sum(0), pi, atol=1e-12)
    T = mix.transition_matrices
    assert np.all(T[:, :3, 3:] == 0) and np.all(T[:, 3:6, :3] == 0)
    np.testing.assert_allclose(T[:, 3:6, 3:6], MESS3_PAIR[1].transition_matrices)
    # an ergodic process is a mixture of one: its posterior is the constant 1
    single = hmm.get_process("mess3")
    assert not single.is_mixture and single.blocks == ((0, 3),)
    np.testing.assert_allclose(hmm.component_posterior(single, np.array([[0.2, 0.3, 0.5]])), [[1.0]])


def test_rrxor_component_with_its_own_stationary_prior():
    rrxor, even = hmm.get_process("rrxor"), hmm.get_process("even")
    mix = hmm.mixture([rrxor, even], [0.5, 0.5])
    np.testing.assert_allclose(mix.initial_belief[:5], np.array([2, 1, 1, 1, 1]) / 12)
    np.testing.assert_allclose(mix.initial_belief[5:], np.array([2 / 3, 1 / 3]) / 2)
    # h(0) by hand: RRXOR and even both emit 0 with probability 1/2 and 2/3 from stationarity
    p0 = 0.5 * 0.5 + 0.5 * (2 / 3 * 0.5)
    assert hmm.myopic_entropy(mix, 1)[0] == pytest.approx(-(p0 * np.log(p0) + (1 - p0) * np.log(1 - p0)))


def test_optimal_loss_of_two_identical_components_equals_one():
    mess3 = hmm.get_process("mess3")
    mix = hmm.mixture([mess3, mess3], [0.3, 0.7])
    np.testing.assert_allclose(hmm.myopic_entropy(mix, 5), [1.0986, 0.8577, 0.8134, 0.7981, 0.7947], atol=1e-4)
    assert hmm.optimal_loss(mix, 6) == pytest.approx(hmm.optimal_loss(mess3, 6), abs=1e-12)
    assert hmm.optimal_loss(mix, 6, bos=True) == pytest.approx(hmm.optimal_loss(mess3, 6, bos=True), abs=1e-12)


def iid(probs):
    """A one-state HMM emitting token x with probability probs[x]."""
    return hmm.from_matrices(np.asarray(probs, float)[:, None, None])


def test_posterior_collapses_after_one_informative_token():
    """A emits 0 or 1 (0.3, 0.7); B emits 1 or 2 (0.4, 0.6). Token 1 is evidence, tokens 0 and 2 decide."""
    A, B, w = iid([0.3, 0.7, 0.0]), iid([0.0, 0.4, 0.6]), 0.4
    mix = hmm.mixture([A, B], [w, 1 - w])
    tokens = np.array([[1, 1, 2, 1], [1, 0, 1, 1]])
    post = hmm.component_posterior(mix, np.asarray(hmm.beliefs(mix, tokens), np.float64))
    after_1 = w * 0.7 / (w * 0.7 + (1 - w) * 0.4)
    after_11 = w * 0.49 / (w * 0.49 + (1 - w) * 0.16)
    np.testing.assert_allclose(post[0, :2, 0], [after_1, after_11], rtol=1e-5)
    np.testing.assert_allclose(post[0, 2:], [[0, 1], [0, 1]], atol=1e-7)
    np.testing.assert_allclose(post[1, 1:], [[1, 0]] * 3, atol=1e-7)
    # the prediction before any token mixes the components by the weights
    np.testing.assert_allclose(
        hmm.predictive_distribution(mix, mix.initial_belief), [w * 0.3, w * 0.7 + (1 - w) * 0.4, (1 - w) * 0.6]
    )


def test_sampling_draws_components_by_their_weights():
    """Disjoint vocabularies reveal each sequence's component; counts are Binomial(n, w)."""
    A, B = iid([0.5, 0.5, 0.0, 0.0]), iid([0.0, 0.0, 0.3, 0.7])
    n, w = 20_000, 0.3
    tokens, beliefs = hmm.sample(hmm.mixture([A, B], [w, 1 - w]), KEY, batch_size=n, seq_len=4)
    tokens = np.asarray(tokens)
    from_A = tokens[:, 0] < 2
    assert np.all((tokens < 2) == from_A[:, None]), "a sequence switched component"
    assert abs(from_A.sum() - n * w) < 4 * np.sqrt(n * w * (1 - w))
    np.testing.assert_allclose(np.asarray(beliefs)[:, 0, 0], from_A.astype(float), atol=1e-6)


def test_mess3_mixture_samples_follow_the_tree():
    """Chi-square of sampled length-3 sequences against the mixture tree's exact probabilities."""
    from scipy.stats import chisquare

    mix = hmm.mixture(MESS3_PAIR, [0.4, 0.6])
    tokens, _ = hmm.sample(mix, KEY, batch_size=100_000, seq_len=3)
    codes = (np.asarray(tokens) * np.array([9, 3, 1])).sum(1)
    tree = hmm.mixed_state_presentation(mix, 3)
    expected = np.zeros(27)
    expected[tree.codes[tree.level(3)]] = tree.probs[tree.level(3)]
    assert chisquare(np.bincount(codes, minlength=27), expected * len(codes)).pvalue > 1e-4


def test_display_name_lists_weighted_components():
    assert hmm.display_name(hmm.mixture(MESS3_PAIR, [0.5, 0.5])) == (
        "0.5 × Mess3 (x = 0.05, α = 0.85) + 0.5 × Mess3 (x = 0.15, α = 0.6)"
    )


@pytest.mark.parametrize(
    "weights, match",
    [
        ([0.5], r"weights must hold one number per component \(2\), got shape \[1\]"),
        ([0.5, 0.6], r"weights must sum to 1 .*got sum 1.1"),
        ([1.2, -0.2], r"weights\[1\]=-0.2 is invalid: weights must be finite and non-negative"),
        ([np.nan, 1.0], r"weights\[0\]=nan is invalid"),
        ("ab", r"weights='ab' must be a list of 2 numbers"),
    ],
)
def test_weight_errors(weights, match):
    with pytest.raises(ProcessError, match=match):
        hmm.mixture(MESS3_PAIR, weights)


def test_component_errors():
    with pytest.raises(ProcessError, match=r"components must be a non-empty list"):
        hmm.mixture([])
    with pytest.raises(ProcessError, match=r"components\[1\] must be a Process"):
        hmm.mixture([MESS3_PAIR[0], "mess3"])
    with pytest.raises(ProcessError, match=r"share one vocabulary: components\[1\] has V=2"):
        hmm.mixture([MESS3_PAIR[0], hmm.get_process("even")])
    with pytest.raises(ProcessError, match=r"components\[0\] is itself a mixture"):
        hmm.mixture([hmm.mixture(MESS3_PAIR), MESS3_PAIR[0]])


def test_initial_belief_errors():
    T = hmm.get_process("even").transition_matrices
    with pytest.raises(ProcessError, match=r"initial_belief must have shape \[2\]"):
        hmm.from_matrices(T, initial_belief=[1.0])
    with pytest.raises(ProcessError, match=r"initial_belief must be non-negative; entry 1 is -0.5"):
        hmm.from_matrices(T, initial_belief=[1.5, -0.5])
    with pytest.raises(ProcessError, match=r"initial_belief . w must be 1 .*got 0.5"):
        hmm.from_matrices(T, initial_belief=[0.25, 0.25])


def test_finite_mixture_presentation_weights_its_closed_classes():
    """Disjoint vocabularies: after one token the component is known, so each has its own closed class;
    the entropy rate averages the components' rates by the weights, the complexity is H(weights)."""
    w = 0.3
    mix = hmm.mixture([iid([0.5, 0.5, 0.0, 0.0]), iid([0.0, 0.0, 0.3, 0.7])], [w, 1 - w])
    states = hmm.mixed_state_presentation(mix, 4).states
    assert states.is_finite and states.num_states == 3 and states.recurrent.tolist() == [False, True, True]
    h_b = -(0.3 * np.log(0.3) + 0.7 * np.log(0.7))
    assert hmm.entropy_rate(mix, 4) == pytest.approx(w * np.log(2) + (1 - w) * h_b)
    assert hmm.statistical_complexity(mix, 4) == pytest.approx(-(w * np.log(w) + (1 - w) * np.log(1 - w)))
