"""A data source without finite states (the Dirichlet Markov family) trains and evaluates like a process:
batches drawn from it, a fixed sampled evaluation set whose Bayes rows are hand counts plus alpha."""

import jax
import numpy as np
import pytest

import hmm
from models.config import ModelConfig
from models.data import sample_batch
from models.evaluation import build_eval_set


def test_batches_come_from_the_source():
    cfg = ModelConfig(n_layers=1, d_model=8, n_heads=1, d_head=4, d_mlp=8, n_ctx=7).for_vocab(4)
    source = hmm.DirichletMarkov(4, 1.0)
    inputs, targets = sample_batch(source, jax.random.key(0), 16, cfg)
    tokens = np.asarray(source.sample(jax.random.key(0), 16, 8))
    np.testing.assert_array_equal(inputs, tokens[:, :7])
    np.testing.assert_array_equal(targets, tokens[:, 1:])


@pytest.mark.parametrize("bos", [False, True])
def test_sampled_eval_set_holds_the_count_based_bayes_rows(bos):
    V, alpha, n_ctx = 3, 0.5, 6
    cfg = ModelConfig(n_layers=1, d_model=8, n_heads=1, d_head=4, d_mlp=8, n_ctx=n_ctx, bos=bos).for_vocab(V)
    es = build_eval_set(hmm.DirichletMarkov(V, alpha), cfg, jax.random.key(2), num_sampled=32)
    assert not es.exact and es.inputs.shape == (32, n_ctx)
    tokens = es.inputs[:, 1:] if bos else es.inputs
    for n, seq in enumerate(tokens):
        for pos in range(n_ctx):
            t = pos - int(bos)  # the last token this position has seen (-1: only BOS)
            if t < 0:
                expected = np.full(V, 1.0 / V)
            else:
                counts = np.zeros(V)
                for s in range(t):
                    if seq[s] == seq[t]:
                        counts[seq[s + 1]] += 1
                expected = (counts + alpha) / (counts.sum() + V * alpha)
            np.testing.assert_allclose(es.predictive[n, pos], expected, atol=1e-6)
    entropy = -(es.predictive * np.log(es.predictive)).sum(-1).mean(0)
    np.testing.assert_allclose(es.optimal_by_position, entropy, rtol=1e-5)
