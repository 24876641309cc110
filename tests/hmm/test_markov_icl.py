"""Markov chains, the Dirichlet family and finite pools against hand counts, closed forms and brute force."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import gammaln

import hmm
from hmm import ProcessError

KEY = jax.random.key(3)
ROWS = 25_000  # Dirichlet draws of shape [ROWS, 4, 4]: 100,000 rows, one compilation for the tests below


def hand_counts(tokens, V, alpha):
    """Numpy loops: posterior-mean matrix [B, L, V, V] and bigram prediction [B, L, V] after x_0..x_t."""
    B, L = tokens.shape
    mean, pred = np.zeros((B, L, V, V)), np.zeros((B, L, V))
    for b in range(B):
        counts = np.zeros((V, V))
        for t in range(L):
            if t > 0:
                counts[tokens[b, t - 1], tokens[b, t]] += 1
            mean[b, t] = (counts + alpha) / (counts.sum(1, keepdims=True) + V * alpha)
            pred[b, t] = mean[b, t, tokens[b, t]]
    return mean, pred


def test_bigram_predictor_by_hand():
    tokens = np.array([[0, 1, 0, 0, 1]])
    pred = np.asarray(hmm.bigram_predictive(tokens, 2, 0.5))
    # t=2 (x_2 = 0): bigrams (0,1), (1,0) so far; row 0 has counts [0, 1] -> [0.5, 1.5] / 2
    np.testing.assert_allclose(pred[0, 2], [0.25, 0.75])
    # t=3 (x_3 = 0): bigrams (0,1), (1,0), (0,0); row 0 has [1, 1] -> [1.5, 1.5] / 3
    np.testing.assert_allclose(pred[0, 3], [0.5, 0.5])
    np.testing.assert_allclose(pred[0, 0], [0.5, 0.5])


@pytest.mark.parametrize("V, L", [(2, 13), (3, 7), (4, 30)])  # cumulative-count and matching paths
def test_bigram_predictor_and_posterior_mean_match_numpy(V, L):
    tokens = np.random.default_rng(V).integers(0, V, size=(5, L))
    mean, pred = hand_counts(tokens, V, 0.3)
    np.testing.assert_allclose(hmm.bigram_predictive(tokens, V, 0.3), pred, rtol=1e-6)
    np.testing.assert_allclose(hmm.bigram_posterior_mean(tokens, V, 0.3), mean, rtol=1e-6)
    d = hmm.DirichletMarkov(V, 0.3)
    np.testing.assert_allclose(d.predictive(tokens), pred, rtol=1e-6)
    np.testing.assert_allclose(d.posterior_mean(tokens), mean, rtol=1e-6)


def test_dirichlet_predictor_is_bayes_by_monte_carlo():
    """Draw matrices from the prior, weight by the sequence's likelihood, average the next-token row."""
    rng = np.random.default_rng(0)
    alpha, seq = 0.7, [0, 0, 1, 0, 0]
    P = rng.dirichlet([alpha] * 2, size=(400_000, 2))
    like = np.prod([P[:, a, b] for a, b in zip(seq[:-1], seq[1:])], axis=0)
    mc = (like[:, None] * P[:, seq[-1]]).sum(0) / like.sum()
    exact = np.asarray(hmm.bigram_predictive(np.array([seq]), 2, alpha))[0, -1]
    np.testing.assert_allclose(exact, mc, atol=0.005)


def test_sequence_probabilities_are_the_polya_closed_form():
    """prod_t P(x_t | x_<t) from the predictor = (1/V) prod_i B(alpha + n_i.) / B(alpha) for every sequence."""
    V, L, alpha = 2, 7, 0.6
    tokens = (np.arange(V**L)[:, None] // V ** np.arange(L - 1, -1, -1)) % V
    logp = -np.asarray(hmm.next_token_log_loss(hmm.bigram_predictive(tokens, V, alpha), tokens), np.float64).sum(1)
    closed = []
    for seq in tokens:
        n = np.zeros((V, V))
        np.add.at(n, (seq[:-1], seq[1:]), 1)
        closed.append(
            -np.log(V)
            + sum(
                gammaln(V * alpha) - gammaln(V * alpha + n[i].sum()) + np.sum(gammaln(alpha + n[i]) - gammaln(alpha))
                for i in range(V)
            )
        )
    np.testing.assert_allclose(logp - np.log(V), closed, atol=1e-5)
    assert np.exp(closed).sum() == pytest.approx(1.0)


def test_dirichlet_myopic_entropy_by_hand_and_by_sampling():
    V, alpha = 3, 0.5
    h = hmm.dirichlet_myopic_entropy(V, alpha, 6)
    same = np.array([1 + alpha, alpha, alpha]) / (1 + V * alpha)  # row x_1 after seeing (x_1, x_1)
    h2 = (1 / V) * -(same * np.log(same)).sum() + (1 - 1 / V) * np.log(V)
    np.testing.assert_allclose(h[:3], [np.log(V), np.log(V), h2], rtol=1e-6)
    matrices = np.random.default_rng(2).dirichlet([alpha] * V, size=(20_000, V))  # the family's prior, in numpy
    tokens = hmm.sample_markov_chains(KEY, matrices, 6)
    curve = hmm.position_curve(hmm.bigram_predictive(tokens, V, alpha), tokens)
    np.testing.assert_allclose(curve, h[1:], atol=0.02)


def test_unigram_predictor_and_log_loss_by_hand():
    tokens = np.array([[2, 0, 2]])
    pred = np.asarray(hmm.unigram_predictive(tokens, 3, 1.0))
    np.testing.assert_allclose(pred[0], [[1 / 4, 1 / 4, 2 / 4], [2 / 5, 1 / 5, 2 / 5], [2 / 6, 1 / 6, 3 / 6]])
    np.testing.assert_allclose(hmm.next_token_log_loss(pred, tokens), [[-np.log(1 / 4), -np.log(2 / 5)]], rtol=1e-6)
    assert hmm.position_curve(pred, tokens).shape == (2,)


def test_markov_chain_process_quantities():
    p, q = 0.2, 0.6
    P = np.array([[1 - p, p], [q, 1 - q]])
    chain = hmm.markov_chain(P)
    np.testing.assert_allclose(chain.initial_belief, [q / (p + q), p / (p + q)])
    tokens = np.array([[0, 0, 1, 1, 0]])
    expected = np.log(q / (p + q)) + np.log(1 - p) + np.log(p) + np.log(1 - q) + np.log(q)
    assert float(hmm.sequence_log_prob(chain, tokens)[0]) == pytest.approx(expected, rel=1e-5)
    beliefs = np.asarray(hmm.beliefs(chain, tokens))
    np.testing.assert_allclose(beliefs, np.eye(2)[tokens], atol=1e-6)
    np.testing.assert_allclose(hmm.predictive_distribution(chain, beliefs)[0], P[tokens[0]], atol=1e-6)
    uniform = hmm.markov_chain(P, first="uniform")
    assert uniform.num_states == 3 and uniform.initial_belief.tolist() == [0, 0, 1]
    assert float(hmm.sequence_log_prob(uniform, tokens)[0]) == pytest.approx(
        expected - np.log(q / (p + q)) + np.log(0.5), rel=1e-5
    )
    rate = -(q * ((1 - p) * np.log(1 - p) + p * np.log(p)) + p * (q * np.log(q) + (1 - q) * np.log(1 - q))) / (p + q)
    h = hmm.myopic_entropy(uniform, 3)
    # after a uniform x_0 the next token's entropy averages the two rows equally, not by the stationary weights
    row_h = [-((1 - p) * np.log(1 - p) + p * np.log(p)), -(q * np.log(q) + (1 - q) * np.log(1 - q))]
    np.testing.assert_allclose(h[:2], [np.log(2), np.mean(row_h)], rtol=1e-10)
    np.testing.assert_allclose(hmm.myopic_entropy(chain, 3)[1:], rate, rtol=1e-10)


def test_pool_is_seeded_and_row_stochastic():
    a = hmm.pool_matrices(4, 0.5, 6, seed=11)
    np.testing.assert_array_equal(a, hmm.pool_matrices(4, 0.5, 6, seed=11))
    assert not np.allclose(a, hmm.pool_matrices(4, 0.5, 6, seed=12))
    assert a.shape == (6, 4, 4) and np.all(a >= 0)
    np.testing.assert_allclose(a.sum(-1), 1.0)
    pool = hmm.markov_pool(4, 0.5, 6, 11)
    np.testing.assert_array_equal(pool.transition_matrices, hmm.markov_pool(4, 0.5, 6, 11).transition_matrices)
    np.testing.assert_allclose(hmm.mixture_weights(pool), np.full(6, 1 / 6))
    assert pool.component_sizes == (5,) * 6
    assert hmm.display_name(pool) == "Markov pool (V = 4, α = 0.5, M = 6, seed = 11)"


def test_pool_predictor_equals_filtering_and_brute_force():
    V, M = 3, 4
    matrices = hmm.pool_matrices(V, 1.0, M, seed=5)
    tokens = np.random.default_rng(1).integers(0, V, size=(3, 6))
    fast = np.asarray(hmm.pool_predictive(matrices, tokens))
    pool = hmm.markov_pool(V, 1.0, M, 5)
    filtered = hmm.predictive_distribution(pool, np.asarray(hmm.beliefs(pool, tokens), np.float64))
    np.testing.assert_allclose(fast, filtered, atol=2e-5)
    for b, seq in enumerate(tokens):
        for t in range(len(seq)):
            like = np.array([np.prod([P[x, y] for x, y in zip(seq[:t], seq[1 : t + 1])]) for P in matrices])
            np.testing.assert_allclose(fast[b, t], like @ matrices[:, seq[t]] / like.sum(), atol=2e-6)


def test_chain_sampler_follows_the_matrix():
    P = np.array([[0.1, 0.9, 0.0], [0.5, 0.25, 0.25], [0.0, 0.0, 1.0]])
    n = 4000
    tokens = np.asarray(hmm.sample_markov_chains(KEY, np.broadcast_to(P, (n, 3, 3)), 12))
    counts = np.zeros((3, 3))
    np.add.at(counts, (tokens[:, :-1], tokens[:, 1:]), 1)
    freq = counts / counts.sum(1, keepdims=True)
    assert counts[P == 0].sum() == 0
    np.testing.assert_allclose(freq, P, atol=0.02)
    first = np.bincount(tokens[:, 0], minlength=3)
    assert np.all(np.abs(first - n / 3) < 4 * np.sqrt(n * 2 / 9))


def test_dirichlet_sampler_is_keyed_and_returns_its_matrices():
    d = hmm.DirichletMarkov(4, 0.8)
    tokens, mats = d.sample(KEY, ROWS, 5, return_matrices=True)  # ROWS: one compilation with the moments test
    np.testing.assert_array_equal(tokens, d.sample(KEY, ROWS, 5))
    assert tokens.shape == (ROWS, 5) and mats.shape == (ROWS, 4, 4)
    np.testing.assert_allclose(np.asarray(mats).sum(-1), 1.0, atol=1e-5)
    tokens, chain = hmm.sample_pool(KEY, hmm.pool_matrices(3, 1.0, 5, 0), 2000, 3, weights=[0.6, 0.1, 0.1, 0.1, 0.1])
    share = np.mean(np.asarray(chain) == 0)
    assert abs(share - 0.6) < 4 * np.sqrt(0.24 / 2000)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: hmm.bigram_predictive(np.array([[0, 3]]), 3, 1.0), r"tokens hold 3, outside the vocabulary"),
        (lambda: hmm.unigram_predictive(np.array([[0, 1]]), 3, 0.0), r"alpha=0.0 is invalid: must be a number > 0"),
        (lambda: hmm.markov_chain([[0.5, 0.4], [0.5, 0.5]]), r"matrix: rows must sum to 1 .*row 0 sums to 0.9"),
        (lambda: hmm.markov_chain([[1.0, 0.0], [0.0, 1.0]]), r"markov_chain needs an irreducible chain"),
        (lambda: hmm.markov_chain([[0.5, 0.5], [0.5, 0.5]], first="random"), r"first='random' is invalid"),
        (lambda: hmm.markov_chain([[1.0]] * 2), r"matrix must have shape \[V, V\]"),
        (lambda: hmm.DirichletMarkov(3, -1.0), r"dirichlet_markov: parameter alpha=-1.0 is out of range"),
        (lambda: hmm.get_process("markov_pool", num_chains=0), r"num_chains=0 is out of range"),
        (lambda: hmm.pool_predictive(np.ones((2, 2)), np.zeros((1, 3), int)), r"matrices must have shape \[M, V, V\]"),
        (lambda: hmm.next_token_log_loss(np.ones((1, 2, 3)), np.zeros((1, 3), int)), r"predictive must have shape"),
    ],
)
def test_errors(call, match):
    with pytest.raises(ProcessError, match=match):
        call()


@pytest.mark.parametrize("alpha", [0.05, 2.5])
def test_dirichlet_rows_have_the_dirichlet_moments(alpha):
    """Mean 1/V and variance (1/V)(1 - 1/V)/(V alpha + 1) per entry; Gamma draws with mean and variance alpha
    (within 5 standard errors; the variance's from the Gamma fourth central moment 3 alpha (alpha + 2))."""
    from hmm.gamma import dirichlet_rows, log_gamma

    V, n = 4, ROWS * 4
    P = np.asarray(dirichlet_rows(KEY, alpha, (ROWS, V, V)), np.float64).reshape(n, V)
    assert np.all(np.isfinite(P)) and np.allclose(P.sum(-1), 1.0, atol=1e-5)
    var = (1 / V) * (1 - 1 / V) / (V * alpha + 1)
    np.testing.assert_allclose(P.mean(0), 1 / V, atol=5 * np.sqrt(var / n))
    np.testing.assert_allclose(P.var(0), var, rtol=0.03)
    g = np.exp(np.asarray(log_gamma(KEY, jnp.float32(alpha), (ROWS, V, V)), np.float64)).ravel()
    assert abs(g.mean() - alpha) < 5 * np.sqrt(alpha / n)
    assert abs(g.var() - alpha) < 5 * np.sqrt((2 * alpha**2 + 6 * alpha) / n)
