"""Sequence-grouped cross-validation never splits a sequence, its held-out predictions equal a numpy least-squares
fit on the other folds' rows, and the weight-permuted control permutes every parameter array."""

import jax
import numpy as np
from flax import nnx

from analysis.llm_beliefs.permuted import permute_each_matrix, permuted_weights
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


def _matrices(path, array):
    """Each matrix of a parameter array: one per layer when the array stacks the layers (under `blocks`, no layer
    index in its path), else the array itself."""
    array = np.asarray(array)
    keys = [getattr(k, "key", getattr(k, "idx", None)) for k in path]
    stacked = keys[0] == "blocks" and not isinstance(keys[1], int)
    return list(array) if stacked else [array]


def test_permuted_control_shuffles_every_matrix_and_changes_the_output():
    model = _random_llama()
    control = permuted_weights(model, seed=0)
    before = jax.tree_util.tree_leaves_with_path(nnx.state(model, nnx.Param))
    after = jax.tree.leaves(nnx.state(control, nnx.Param))
    pairs = [(a, b) for (path, x), y in zip(before, after) for a, b in zip(_matrices(path, x), _matrices(path, y))]
    assert len(pairs) == 29  # W_U + 3 layers x (2 norms, 4 attention, 3 MLP matrices) + final norm, in any layout
    for a, b in pairs:
        assert a.shape == b.shape
        np.testing.assert_array_equal(np.sort(a, axis=None), np.sort(b, axis=None))  # the same multiset
        assert not np.array_equal(a, b)  # a different arrangement
    assert not np.allclose(model(TOKENS)[0], control(TOKENS)[0])
    original = jax.tree.leaves(nnx.state(model, nnx.Param))[0]  # the model itself is untouched
    np.testing.assert_array_equal(np.asarray(before[0][1]), np.asarray(original))


def test_a_stack_of_matrices_is_permuted_matrix_by_matrix():
    stack = np.arange(24.0).reshape(2, 3, 4)
    out = permute_each_matrix(stack, np.random.default_rng(0), stacked=True)
    for layer in range(2):
        np.testing.assert_array_equal(np.sort(out[layer], axis=None), stack[layer].reshape(-1))
    assert not np.array_equal(out, stack)
