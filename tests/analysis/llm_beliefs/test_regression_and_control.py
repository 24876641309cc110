"""Sequence-grouped cross-validation never splits a sequence, its held-out predictions equal a numpy least-squares
fit on the other folds' rows, and the weight-permuted control permutes every parameter array."""

import jax
import numpy as np
from flax import nnx

from analysis.llm_beliefs.permuted import permuted_weights
from analysis.llm_beliefs.regression import position_buckets, sequence_folds, site_regression
from tests.models.pretrained.test_interface import TOKENS, _random_llama


def test_every_sequence_lies_in_exactly_one_fold():
    sequence = np.repeat(np.arange(13), 7)
    fold = sequence_folds(sequence, 4, seed=3)
    assert set(fold.tolist()) == {0, 1, 2, 3}
    for s in range(13):
        assert len(set(fold[sequence == s].tolist())) == 1


def test_heldout_predictions_come_from_a_fit_on_other_sequences_only():
    rng = np.random.default_rng(0)
    sequence = np.repeat(np.arange(10), 20)
    x = rng.normal(size=(200, 4))
    y = x @ rng.normal(size=(4, 3)) + 0.3 * rng.normal(size=(200, 3)) + sequence[:, None] * 0.1
    fold = sequence_folds(sequence, 5, seed=0)
    fit = site_regression(x, y, fold)
    for f in range(5):
        train, test = fold != f, fold == f
        design = np.c_[x, np.ones(len(x))]
        coef = np.linalg.lstsq(design[train], y[train], rcond=None)[0]
        np.testing.assert_allclose(fit["heldout_NxC"][test], design[test] @ coef, atol=1e-8)
    pooled = 1 - np.sum((y - fit["heldout_NxC"]) ** 2) / np.sum((y - y.mean(0)) ** 2)
    assert fit["cv"]["r2"] == np.float64(pooled) or abs(fit["cv"]["r2"] - pooled) < 1e-10


def test_position_buckets_cover_every_position_once():
    assert position_buckets(256) == {"early": (0, 85), "mid": (85, 171), "late": (171, 256)}


def test_permuted_control_shuffles_every_parameter_array_and_changes_the_output(allow_rank_promotion):
    model = _random_llama()
    control = permuted_weights(model, seed=0)
    before = jax.tree.leaves(nnx.state(model, nnx.Param))
    after = jax.tree.leaves(nnx.state(control, nnx.Param))
    assert len(before) == len(after) == 29  # W_U + 3 blocks x (2 norms, 4 attention, 3 MLP matrices) + final norm
    for a, b in zip(before, after):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape
        np.testing.assert_array_equal(np.sort(a, axis=None), np.sort(b, axis=None))  # the same multiset
        assert not np.array_equal(a, b)  # a different arrangement
    assert not np.allclose(model(TOKENS)[0], control(TOKENS)[0])
    np.testing.assert_array_equal(np.asarray(before[0]), np.asarray(jax.tree.leaves(nnx.state(model, nnx.Param))[0]))
