"""Sampled sequences: beliefs are posteriors (sum to 1, Bayes prediction from them), and a mixture's component
posterior equals prior x each component's likelihood, computed component by component in numpy."""

import numpy as np

import hmm
from analysis.llm_beliefs.sequences import sample_sequences


def _likelihoods(component: hmm.Process, tokens_T: np.ndarray) -> np.ndarray:
    """P(x_0..x_t | component) for every t, by the forward recursion in numpy."""
    T = np.asarray(component.transition_matrices, np.float64)
    alpha, out = np.asarray(component.initial_belief, np.float64), []
    for x in tokens_T:
        alpha = alpha @ T[x]
        out.append(alpha @ np.asarray(component.right_vector, np.float64))
    return np.array(out)


def test_mixture_component_posterior_against_per_component_likelihoods():
    a, b = hmm.get_process("mess3", x=0.05, alpha=0.85), hmm.get_process("mess3", x=0.15, alpha=0.6)
    process = hmm.mixture([a, b], [0.3, 0.7])
    seqs = sample_sequences(process, 3, 20, seed=2)
    posterior = seqs.component_posterior()
    assert posterior.shape == (3, 20, 2)
    for n in range(3):
        joint = np.stack([0.3 * _likelihoods(a, seqs.tokens_NxT[n]), 0.7 * _likelihoods(b, seqs.tokens_NxT[n])], -1)
        np.testing.assert_allclose(posterior[n], joint / joint.sum(-1, keepdims=True), atol=1e-5)


def test_beliefs_sum_to_one_and_an_ordinary_process_has_no_component_target():
    seqs = sample_sequences(hmm.get_process("mess3"), 4, 10)
    np.testing.assert_allclose(seqs.beliefs_NxTxS.sum(-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(seqs.bayes_NxTxV.sum(-1), 1.0, atol=1e-12)
    assert seqs.component_posterior() is None
    assert seqs.rows(seqs.tokens_NxT).tolist() == seqs.tokens_NxT.reshape(-1).tolist()
    assert seqs.sequence_of_row()[10] == 1 and seqs.position_of_row()[10] == 0
