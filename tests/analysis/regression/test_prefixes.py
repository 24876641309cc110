"""Prefix alignment: each distinct prefix's activation is the model's output at its last token (run alone),
its target is the posterior after it (not the prior), and sampled prefixes carry the tree's probabilities."""

import jax
import numpy as np
import pytest
from flax import nnx

import hmm
from analysis.regression.activations import collect_activations
from analysis.regression.prefixes import input_layout, prefix_set, sampled_prefixes, tree_prefixes
from models.config import ModelConfig
from models.transformer import Transformer

SMALL = dict(n_layers=2, d_model=16, n_heads=2, d_head=4, d_mlp=32, n_ctx=5)
SITE = "blocks.1.resid_post"


@pytest.fixture(scope="module")
def mess3():
    return hmm.get_process("mess3", x=0.05, alpha=0.85)


def _alone(model):
    """`tokens -> activation at the last position` of the prefix run on its own (BOS prepended if used)."""
    graphdef, state = nnx.split(model)
    run = jax.jit(lambda s, x: nnx.merge(graphdef, s)(x, capture=(SITE,))[1][SITE])
    bos = [model.config.bos_token] if model.config.bos else []

    def one(tokens_L):
        return np.asarray(run(state, np.asarray(bos + list(tokens_L), np.int32)[None]))[0, -1]

    return one


def _decode(code, length, vocab):
    return [(code // vocab ** (length - 1 - i)) % vocab for i in range(length)]


@pytest.mark.parametrize("bos", [False, True])
def test_activation_of_each_prefix_is_the_model_run_on_that_prefix_alone(mess3, bos):
    model = Transformer(ModelConfig(vocab_size=3, bos=bos, **SMALL), rngs=nnx.Rngs(0))
    ps = prefix_set(mess3, input_layout(model))
    acts = collect_activations(model, ps, (SITE,), batch_size=64)[SITE]
    alone = _alone(model)
    for i in np.random.default_rng(0).choice(ps.num_prefixes, 25, replace=False):
        np.testing.assert_allclose(acts[i], alone(_decode(ps.codes[i], ps.lengths[i], 3)), atol=2e-5)
    assert ps.num_prefixes == sum(3**k for k in range(1, 5 - bos + 1)) + bos  # each distinct prefix once


def test_pruned_tree_prefixes_without_full_extensions_are_padded_and_still_aligned(mess3):
    model = Transformer(ModelConfig(vocab_size=3, **SMALL), rngs=nnx.Rngs(1))
    tree = hmm.mixed_state_presentation(mess3, 5, min_prob=2e-3)
    ps = tree_prefixes(tree, input_layout(model))
    assert np.any(ps.counts == 0)  # some prefixes lost all their full-length extensions to pruning
    acts = collect_activations(model, ps, (SITE,), batch_size=32)[SITE]
    alone = _alone(model)
    for i in np.flatnonzero(ps.counts == 0)[:10]:
        np.testing.assert_allclose(acts[i], alone(_decode(ps.codes[i], ps.lengths[i], 3)), atol=2e-5)


def test_targets_are_posteriors_after_the_prefix_not_priors(mess3):
    ps = tree_prefixes(hmm.mixed_state_presentation(mess3, 4), input_layout(n_ctx=4))
    full = ps.inputs_MxL[ps.sequence_index]
    posterior = np.asarray(hmm.beliefs(mess3, full), np.float64)[np.arange(ps.num_prefixes), ps.lengths - 1]
    np.testing.assert_allclose(ps.beliefs, posterior, atol=1e-5)


def test_counts_are_the_number_of_full_length_extensions():
    ps = tree_prefixes(hmm.mixed_state_presentation(hmm.get_process("even"), 6), input_layout(n_ctx=6))
    six = ps.lengths == 6
    full_codes = ps.codes[six]
    for i in np.random.default_rng(1).choice(ps.num_prefixes, 30, replace=False):
        k = ps.lengths[i]
        expected = np.sum(full_codes // 2 ** (6 - k) == ps.codes[i])
        assert ps.counts[i] == expected


def test_sampled_prefix_weights_approach_the_tree_probabilities(mess3):
    M = 40000
    ps = sampled_prefixes(mess3, jax.random.key(3), M, input_layout(n_ctx=4))
    tree = hmm.mixed_state_presentation(mess3, 4)
    rows = np.array(
        [tree.level(k).start + np.searchsorted(tree.codes[tree.level(k)], c) for k, c in zip(ps.lengths, ps.codes)]
    )
    np.testing.assert_array_equal(tree.codes[rows], ps.codes)
    exact = tree.probs[rows]
    sigma = np.sqrt(exact * (1 - exact) / M)
    assert np.max(np.abs(ps.probs - exact) / sigma) < 5.0
    np.testing.assert_allclose(ps.beliefs, tree.beliefs[rows], atol=1e-5)
    for k in range(1, 5):
        assert ps.probs[ps.lengths == k].sum() == pytest.approx(1.0)
    assert len(np.unique(ps.lengths * 10**6 + ps.codes)) == ps.num_prefixes  # de-duplicated


def test_large_trees_fall_back_to_sampling(mess3):
    ps = prefix_set(mess3, input_layout(n_ctx=8), max_sequences=1000, num_samples=500, key=jax.random.key(0))
    assert ps.source == "sampled"
    assert len(ps.inputs_MxL) <= 500
