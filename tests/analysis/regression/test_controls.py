"""Controls: the shuffle null equals brute-force refits and behaves under no signal; cross-validation holds
out distinct prefixes, equals refitting without the fold, and exposes overfitting; everything is seeded."""

from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import LinearRegression

import hmm
from analysis.regression.fit import solve
from analysis.regression.folds import random_folds
from analysis.regression.measure import Settings, measure
from analysis.regression.metrics import weighted_r2
from analysis.regression.moments import design, moments
from analysis.regression.nulls import permutation_chunks, shuffle_r2
from analysis.regression.prefixes import tree_prefixes
from models.keys import numpy_rng

LAYOUT = SimpleNamespace(n_ctx=5, bos=False, bos_token=None)


@pytest.fixture(scope="module")
def prefixes():
    p = hmm.get_process("mess3", x=0.05, alpha=0.85)
    return tree_prefixes(hmm.mixed_state_presentation(p, 5), LAYOUT)


def _refit_r2(x, y, w):
    return weighted_r2(y, LinearRegression().fit(x, y, sample_weight=w).predict(x), w)


def test_shuffle_null_equals_refitting_each_permutation():
    rng = np.random.default_rng(0)
    n = 250
    y = rng.dirichlet(np.ones(3), n)
    w = rng.random(n) ** 3
    acts = {"a": rng.normal(size=(n, 4)), "b": y @ rng.normal(size=(3, 5)) + 0.5 * rng.normal(size=(n, 5))}
    targets = {"belief": y, "other": y @ rng.random((3, 2))}
    d = design(acts, ["a", "b"], w)
    m = moments(d, np.concatenate(list(targets.values()), 1), w)
    groups = {"a": ["a"], "b": ["b"], "both": ["a", "b"]}
    solutions = {g: solve(m, d.indices(s)) for g, s in groups.items()}
    perms = np.stack([rng.permutation(n) for _ in range(7)])
    shared = shuffle_r2(d.x_NxD, w, targets, solutions, [perms], gram_DxD=m.centred(slice(None))[3])
    null = shuffle_r2(d.x_NxD, w, targets, solutions, [perms[:4], perms[4:]])
    for g, sites in groups.items():
        x = np.concatenate([acts[s] for s in sites], 1)
        for t, y_t in targets.items():
            brute = [_refit_r2(x, y_t[p], w) for p in perms]
            np.testing.assert_allclose(null[g][t], brute, atol=1e-5)  # products run in float32
            np.testing.assert_allclose(shared[g][t], brute, atol=1e-5)  # every group from the concatenation


def test_identity_permutation_reproduces_the_real_fit(prefixes):
    rng = np.random.default_rng(1)
    acts = {"s": prefixes.beliefs @ rng.normal(size=(3, 6)) + 0.3 * rng.normal(size=(prefixes.num_prefixes, 6))}
    real = measure(acts, prefixes, {"s": ("s",)}, Settings(num_shuffles=0, cv_folds=0))["s"]
    w = prefixes.probs
    d = design(acts, ["s"], w)
    targets = {"belief": prefixes.beliefs}
    sol = solve(moments(d, prefixes.beliefs, w), d.indices(["s"]))
    null = shuffle_r2(d.x_NxD, w, targets, {"s": sol}, [np.arange(prefixes.num_prefixes)[None]])
    assert null["s"]["belief"][0] == pytest.approx(real.targets["belief"].metrics["r2"], abs=1e-5)


def test_no_signal_null_is_near_zero_and_p_values_are_uniform(prefixes):
    rng = np.random.default_rng(2)
    p_values, null_means = [], []
    for _ in range(40):
        acts = {"s": rng.normal(size=(prefixes.num_prefixes, 3))}
        res = measure(
            acts,
            prefixes,
            {"s": ("s",)},
            Settings(weighting="uniform", num_shuffles=99, cv_folds=0, seed=int(rng.integers(1 << 30))),
        )
        null = res["s"].targets["belief"].null
        p_values.append(null.p_value)
        null_means.append(null.r2_P.mean())
    assert np.mean(null_means) < 0.02  # about 3 / (N - 1) with N = 363 prefixes
    assert stats.kstest(p_values, "uniform").pvalue > 0.01
    assert 0.3 < np.mean(p_values) < 0.7


def test_planted_signal_is_found_and_beats_every_shuffle(prefixes):
    rng = np.random.default_rng(3)
    n = prefixes.num_prefixes
    noise = rng.normal(size=(n, 12))
    acts = {"s": noise + np.pad(prefixes.beliefs @ rng.normal(size=(3, 2)), ((0, 0), (0, 10))) * 20.0}
    res = measure(acts, prefixes, {"s": ("s",)}, Settings(num_shuffles=200, cv_folds=5))["s"].targets["belief"]
    assert res.metrics["r2"] > 0.95
    assert res.null.p_value == pytest.approx(1 / 201)
    assert res.null.summary()["q99"] < 0.5
    assert res.cv["r2"] > 0.9
    assert res.cv_null.summary()["q99"] < 0.1 and res.cv_null.p_value == pytest.approx(1 / 101)


def test_folds_split_distinct_prefixes_and_match_refits_without_the_fold(prefixes):
    n = prefixes.num_prefixes
    fold = random_folds(n, 5, np.random.default_rng(4))
    assert np.bincount(fold).max() - np.bincount(fold).min() <= 1  # every prefix in exactly one fold
    rng = np.random.default_rng(5)
    x = prefixes.beliefs @ rng.normal(size=(3, 4)) + 0.2 * rng.normal(size=(n, 4))
    res = measure({"s": x}, prefixes, {"s": ("s",)}, Settings(num_shuffles=0, cv_folds=5, seed=7))
    fold = random_folds(n, 5, np.random.default_rng([7, 2]))  # the "cv" stream of seed 7
    w, y = prefixes.probs, prefixes.beliefs
    oof = np.empty_like(y)
    for f in range(5):
        train, test = fold != f, fold == f
        oof[test] = LinearRegression().fit(x[train], y[train], sample_weight=w[train]).predict(x[test])
    assert res["s"].targets["belief"].cv["r2"] == pytest.approx(weighted_r2(y, oof, w), abs=1e-9)


def test_heldout_null_equals_cross_validating_each_permutation(prefixes):
    """Each held-out null value is the pooled k-fold R^2 of brute-force weighted refits onto permuted targets,
    for single sites and their concatenation, for every target."""
    rng = np.random.default_rng(10)
    n, folds, seed = prefixes.num_prefixes, 4, 21
    acts = {"a": rng.normal(size=(n, 3)), "b": prefixes.beliefs @ rng.normal(size=(3, 4)) + rng.normal(size=(n, 4))}
    groups = {"a": ("a",), "b": ("b",), "both": ("a", "b")}
    res = measure(acts, prefixes, groups, Settings(num_shuffles=0, num_cv_shuffles=6, cv_folds=folds, seed=seed))
    fold = random_folds(n, folds, numpy_rng(seed, "cv"))
    order = np.argsort(fold, kind="stable")  # measure keeps rows in fold order; permutations act on that order
    fold_o, w = fold[order], prefixes.probs[order]
    perms = next(permutation_chunks(n, 6, numpy_rng(seed, "cv_shuffle")))
    targets = {
        "belief": prefixes.beliefs,
        "next_token": hmm.predictive_distribution(prefixes.process, prefixes.beliefs),
    }
    for g, sites in groups.items():
        x = np.concatenate([acts[s] for s in sites], 1)[order]
        for t, y_t in targets.items():
            brute = []
            for p in perms:
                y, oof = y_t[order][p], np.empty((n, y_t.shape[1]))
                for f in range(folds):
                    train, test = fold_o != f, fold_o == f
                    oof[test] = LinearRegression().fit(x[train], y[train], sample_weight=w[train]).predict(x[test])
                brute.append(weighted_r2(y, oof, w))
            np.testing.assert_allclose(res[g].targets[t].cv_null.r2_P, brute, atol=1e-8)
            assert res[g].targets[t].cv_null.observed == res[g].targets[t].cv["r2"]


def test_cross_validation_exposes_overfitting(prefixes):
    """Many random regressors fit the few heavy prefixes in sample, and nothing out of sample."""
    acts = {"s": np.random.default_rng(6).normal(size=(prefixes.num_prefixes, 120))}
    res = measure(acts, prefixes, {"s": ("s",)}, Settings(num_shuffles=100, cv_folds=5))["s"].targets["belief"]
    assert res.metrics["r2"] > 0.3
    assert res.cv["r2"] < 0.05
    assert res.null.p_value > 0.01
    assert res.null.r2_P.mean() > 0.3  # the in-sample null overfits as much as the real fit...
    assert res.cv_null.r2_P.mean() < 0.0  # ...the held-out null does not
    assert res.cv_null.p_value > 0.01


def test_rcond_regularises_every_fit_and_each_fold_chooses_its_own_directions(prefixes):
    """With a raised `rcond`, the fit, the shuffle null and every fold's fit are principal-component
    regressions; each fold's components come from its training rows only (checked by brute force)."""
    from tests.analysis.regression.test_fit import _pcr_predictions

    rng = np.random.default_rng(9)
    n, rcond = prefixes.num_prefixes, 0.05
    x = rng.normal(size=(n, 30)) * np.geomspace(1.0, 1e-3, 30) + prefixes.beliefs @ rng.normal(size=(3, 30))
    settings = Settings(num_shuffles=20, cv_folds=4, seed=13, rcond=rcond)
    res = measure({"s": x}, prefixes, {"s": ("s",)}, settings)["s"]
    w, y = prefixes.probs, prefixes.beliefs
    fitted, k = _pcr_predictions(x, y, w, rcond, x)
    assert res.rank == k < 30
    np.testing.assert_allclose(res.targets["belief"].predicted_NxC, fitted, atol=1e-8)
    fold = random_folds(n, 4, np.random.default_rng([13, 2]))  # the "cv" stream of seed 13
    oof = np.empty_like(y)
    for f in range(4):
        train, test = fold != f, fold == f
        oof[test] = _pcr_predictions(x[train], y[train], w[train], rcond, x[test])[0]
    assert res.targets["belief"].cv["r2"] == pytest.approx(weighted_r2(y, oof, w), abs=1e-9)
    order = np.argsort(fold, kind="stable")  # measure keeps rows in fold order; permutations act on that order
    xo, yo, wo = x[order], y[order], w[order]
    perms = next(permutation_chunks(n, 20, numpy_rng(13, "shuffle")))
    brute = [weighted_r2(yo[p], _pcr_predictions(xo, yo[p], wo, rcond, xo)[0], wo) for p in perms]
    np.testing.assert_allclose(res.targets["belief"].null.r2_P, brute, atol=1e-5)


def test_same_seed_same_numbers_other_seed_other_null(prefixes):
    acts = {"s": np.random.default_rng(8).normal(size=(prefixes.num_prefixes, 5))}
    run = [
        measure(acts, prefixes, {"s": ("s",)}, Settings(num_shuffles=50, cv_folds=4, seed=s))["s"] for s in (11, 11, 12)
    ]
    a, b, c = (r.targets["belief"] for r in run)
    np.testing.assert_array_equal(a.null.r2_P, b.null.r2_P)
    assert a.cv == b.cv
    assert not np.array_equal(a.null.r2_P, c.null.r2_P)
