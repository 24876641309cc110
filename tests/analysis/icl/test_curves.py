"""The icl stage's curves against numpy: pool Bayes by path sums over chains, Dirichlet and n-gram estimators by
counting, the model's curve from its own logits; exact sets enumerate every sequence."""

import jax
import numpy as np
import pytest
from flax import nnx

import hmm
import models
from analysis.icl.curves import icl_section
from analysis.icl.sequences import sequence_set
from tests.analysis.icl.brute_force import add_alpha_counts, all_sequences, chain_prob

V, M, ALPHA, C = 2, 2, 1.0, 4


def tiny_model(bos: bool):
    cfg = models.ModelConfig(n_layers=1, d_model=8, n_heads=1, d_head=4, d_mlp=8, n_ctx=C + int(bos), bos=bos)
    return models.Transformer(cfg.for_vocab(V), rngs=nnx.Rngs(3))


def numpy_curves(matrices, tokens_NxC, weights_N, logits_NxCxV):
    """Every curve by hand: target = pool posterior predictive from path sums."""
    curves = {k: np.zeros(C) for k in ("model", "pool", "dirichlet", "unigram", "bigram")}
    q_model = np.exp(logits_NxCxV - logits_NxCxV.max(-1, keepdims=True))
    q_model /= q_model.sum(-1, keepdims=True)
    for n, seq in enumerate(tokens_NxC):
        for t in range(C):
            post = np.array([chain_prob(P, seq[: t + 1]) for P in matrices])
            post /= post.sum()
            target = post @ matrices[:, seq[t]]
            preds = {
                "model": q_model[n, t],
                "pool": target,
                "dirichlet": add_alpha_counts(seq, t, V, ALPHA, bigram=True),
                "unigram": add_alpha_counts(seq, t, V, 1.0, bigram=False),
                "bigram": add_alpha_counts(seq, t, V, 1.0, bigram=True),
            }
            for k, q in preds.items():
                curves[k][t] += weights_N[n] * -(target * np.log(q)).sum()
    return curves


@pytest.mark.parametrize("bos", [False, True])
def test_exact_curves_match_path_sums_and_counts(bos):
    process = hmm.get_process("markov_pool", vocab_size=V, alpha=ALPHA, num_chains=M, seed=1)
    matrices = hmm.pool_matrices(V, ALPHA, M, 1)
    sequences = sequence_set(process, C, jax.random.key(0))
    assert sequences.exact
    expected_probs = {tuple(s): 0.5 * sum(chain_prob(P, s) for P in matrices) for s in all_sequences(V, C)}
    np.testing.assert_allclose(sequences.weights, [expected_probs[tuple(s)] for s in sequences.tokens], atol=1e-9)
    model = tiny_model(bos)
    section = icl_section(model, process, sequences)
    inputs = models.data.inputs_from_context(sequences.tokens, model.config)
    logits = np.asarray(model(np.asarray(inputs))[0], np.float64)[:, int(bos) :]
    expected = numpy_curves(matrices, sequences.tokens, sequences.weights, logits)
    assert section["training_bayes"] == "pool" and section["positions"] == [1, 2, 3, 4]
    for name, curve in expected.items():
        np.testing.assert_allclose(section["curves"][name], curve, rtol=2e-5, atol=2e-6, err_msg=name)
    np.testing.assert_allclose(section["kl_to_bayes"], expected["model"] - expected["pool"], atol=2e-5)


def test_dirichlet_source_uses_a_fixed_sampled_set():
    source = hmm.DirichletMarkov(3, 0.5)
    sequences = sequence_set(source, 6, jax.random.key(1), num_sampled=64)
    again = sequence_set(source, 6, jax.random.key(1), num_sampled=64)
    assert not sequences.exact and sequences.tokens.shape == (64, 6)
    np.testing.assert_array_equal(sequences.tokens, again.tokens)
    cfg = models.ModelConfig(n_layers=1, d_model=8, n_heads=1, d_head=4, d_mlp=8, n_ctx=6).for_vocab(3)
    section = icl_section(models.Transformer(cfg, rngs=nnx.Rngs(0)), source, sequences)
    assert section["training_bayes"] == "dirichlet" and "pool" not in section["curves"]
    expected = np.zeros(6)
    for seq in sequences.tokens:
        for t in range(6):
            p = add_alpha_counts(seq, t, 3, 0.5, bigram=True)
            expected[t] += -(p * np.log(p)).sum() / 64
    np.testing.assert_allclose(section["curves"]["dirichlet"], expected, rtol=1e-5)
