"""Process definitions against the hand-written matrices and stationary distributions in the notes."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hmm


def test_mess3_matrices_match_the_written_form():
    x, a = 0.05, 0.85
    b, y = (1 - a) / 2, 1 - 2 * x
    T = hmm.get_process("mess3", x=x, alpha=a).transition_matrices
    expected0 = [[a * y, b * x, b * x], [a * x, b * y, b * x], [a * x, b * x, b * y]]
    expected2 = [[b * y, b * x, a * x], [b * x, b * y, a * x], [b * x, b * x, a * y]]
    np.testing.assert_allclose(T[0], expected0)
    np.testing.assert_allclose(T[2], expected2)


@pytest.mark.parametrize(
    "name, params, expected",
    [
        ("mess3", {}, [1 / 3] * 3),
        ("mess3", dict(x=0.15, alpha=0.6), [1 / 3] * 3),
        ("rrxor", {}, np.array([2, 1, 1, 1, 1]) / 6),
        ("z1r", {}, [1 / 3] * 3),
        ("even", {}, [2 / 3, 1 / 3]),
        ("golden_mean", {}, [2 / 3, 1 / 3]),
        ("sns", dict(p=0.2, q=0.6), [0.75, 0.25]),  # pi_A p = pi_B q
        ("bloch_walk", {}, [1.0, 0.0, 0.0]),  # the maximally mixed qubit
    ],
)
def test_stationary_distribution(name, params, expected):
    p = hmm.get_process(name, **params)
    np.testing.assert_allclose(p.stationary_distribution, expected, atol=1e-10)


@pytest.mark.parametrize("name", sorted(hmm.list_processes()))
def test_every_process_conserves_probability(name):
    p = hmm.get_process(name)
    T, w, pi = p.transition_matrices, p.right_vector, p.stationary_distribution
    np.testing.assert_allclose(T.sum(0) @ w, w, atol=1e-10)
    np.testing.assert_allclose(pi @ T.sum(0), pi, atol=1e-10)
    assert pi @ w == pytest.approx(1.0)
    assert p.is_generalized == (name in {"post_quantum", "bloch_walk", "fanizza"})


def test_leaky_rrxor_mixes_in_uniform_noise():
    eps = 0.1
    leaky = hmm.get_process("leaky_rrxor", eps=eps).transition_matrices
    clean = hmm.get_process("rrxor").transition_matrices
    np.testing.assert_allclose(leaky, (1 - eps) * clean + eps / 10)


def test_post_quantum_is_scaled_to_unit_spectral_radius():
    a, b = math.e, 0.5
    raw1 = np.array([[a, 0, 0], [0, 1, 0], [0, math.log(a), 1]])
    T = hmm.get_process("post_quantum").transition_matrices
    scale = raw1[0, 0] / T[1, 0, 0]
    np.testing.assert_allclose(T[1] * scale, raw1)
    np.testing.assert_allclose(T[2, 2, 1] * scale, math.log(b))
    assert max(abs(np.linalg.eigvals(T.sum(0)))) == pytest.approx(1.0)


def test_random_hmm_is_seeded_and_stochastic():
    a = hmm.get_process("random_hmm", num_states=6, vocab_size=4, seed=3)
    b = hmm.get_process("random_hmm", num_states=6, vocab_size=4, seed=3)
    c = hmm.get_process("random_hmm", num_states=6, vocab_size=4, seed=4)
    np.testing.assert_array_equal(a.transition_matrices, b.transition_matrices)
    assert not np.allclose(a.transition_matrices, c.transition_matrices)
    assert a.transition_matrices.shape == (4, 6, 6)


def test_from_matrices_accepts_custom_hmm_and_ghmm():
    even = hmm.get_process("even")
    custom = hmm.from_matrices(even.transition_matrices.tolist())
    np.testing.assert_allclose(custom.stationary_distribution, even.stationary_distribution)
    g = hmm.get_process("fanizza")
    again = hmm.from_matrices(g.transition_matrices, g.right_vector)
    assert again.is_generalized


def test_process_passes_through_jit():
    p = hmm.get_process("mess3")
    total = jax.jit(lambda q: jnp.sum(q.transition_matrices))(p)
    assert float(total) == pytest.approx(3.0, rel=1e-6)


def test_list_processes_names_parameters_and_ranges():
    listing = hmm.list_processes()
    assert {
        "mess3",
        "rrxor",
        "z1r",
        "even",
        "golden_mean",
        "sns",
        "leaky_rrxor",
        "random_hmm",
        "post_quantum",
        "bloch_walk",
        "fanizza",
    } <= set(listing)
    assert "alpha=0.85" in listing["mess3"] and "x=0.05" in listing["mess3"]
