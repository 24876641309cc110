"""The component-posterior and transition-matrix regression targets against brute force: posteriors from path
sums over each component (built separately, never through the mixture), Dirichlet posterior means by counting."""

import itertools
from types import SimpleNamespace

import numpy as np
import pytest

import hmm
from analysis.regression.measure import regression_targets
from analysis.regression.prefixes import prefix_set
from tests.analysis.icl.brute_force import chain_prob, prefix_tokens, sequence_prob

WEIGHTS = np.array([0.3, 0.7])


def layout(n_ctx: int, bos: bool):
    return SimpleNamespace(n_ctx=n_ctx, bos=bos, bos_token=3 if bos else None)


@pytest.mark.parametrize("bos", [False, True])
def test_component_posterior_target_by_path_sums(bos):
    parts = [hmm.get_process("mess3", x=0.05, alpha=0.85), hmm.get_process("mess3", x=0.15, alpha=0.6)]
    prefixes = prefix_set(hmm.mixture(parts, WEIGHTS), layout(4 + int(bos), bos))
    targets = regression_targets(prefixes)
    tokens = prefix_tokens(prefixes)
    expected = []
    for seq, length in zip(tokens, prefixes.lengths):
        joint = WEIGHTS * [sequence_prob(p.transition_matrices, p.stationary_distribution, seq[:length]) for p in parts]
        expected.append(joint / joint.sum())
    assert targets["component"].shape == (prefixes.num_prefixes, 2)
    assert prefixes.lengths.max() == 4 and (prefixes.lengths.min() == 0) == bos
    np.testing.assert_allclose(targets["component"], expected, atol=1e-9)
    assert "transition" not in targets


def test_pool_transition_targets_by_path_sums_and_counts():
    V, M, alpha = 3, 3, 0.7
    process = hmm.get_process("markov_pool", vocab_size=V, alpha=alpha, num_chains=M, seed=2)
    matrices = hmm.pool_matrices(V, alpha, M, 2)
    prefixes = prefix_set(process, layout(3, False))
    targets = regression_targets(prefixes)
    for i, (seq, length) in enumerate(zip(prefix_tokens(prefixes), prefixes.lengths)):
        post = np.array([chain_prob(P, seq[:length]) for P in matrices])
        post /= post.sum()
        np.testing.assert_allclose(targets["component"][i], post, atol=1e-9)
        np.testing.assert_allclose(targets["transition"][i], (post @ matrices.reshape(M, -1)), atol=1e-9)
        counts = np.zeros((V, V))
        for a, b in itertools.pairwise(seq[:length]):  # bigrams inside the prefix
            counts[a, b] += 1
        expected = (counts + alpha) / (counts.sum(1, keepdims=True) + V * alpha)
        np.testing.assert_allclose(targets["transition_dirichlet"][i].reshape(V, V), expected, atol=1e-6)


@pytest.mark.parametrize("bos", [False, True])
def test_dirichlet_source_targets_are_counted_posterior_means(bos):
    V, alpha = 3, 0.5
    prefixes = prefix_set(hmm.DirichletMarkov(V, alpha), layout(5 + int(bos), bos), num_samples=40)
    assert prefixes.source == "sampled"
    targets = regression_targets(prefixes)
    assert set(targets) == {"transition", "next_token"}
    for i, (seq, length) in enumerate(zip(prefix_tokens(prefixes), prefixes.lengths)):
        counts = np.zeros((V, V))
        for a, b in itertools.pairwise(seq[:length]):
            counts[a, b] += 1
        expected = (counts + alpha) / (counts.sum(1, keepdims=True) + V * alpha)
        np.testing.assert_allclose(targets["transition"][i].reshape(V, V), expected, atol=1e-6)
        next_row = expected[seq[length - 1]] if length else np.full(V, 1.0 / V)
        np.testing.assert_allclose(targets["next_token"][i], next_row, atol=1e-6)
    assert (prefixes.lengths == 0).sum() == int(bos)
