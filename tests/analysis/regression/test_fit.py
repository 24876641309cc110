"""Weighted affine regression: agreement with scikit-learn, exact recovery, and the paper's token-level OLS."""

from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

import hmm
from analysis.regression.fit import fit_affine
from analysis.regression.measure import Settings, measure
from analysis.regression.metrics import weighted_r2
from analysis.regression.prefixes import tree_prefixes

LAYOUT = SimpleNamespace(n_ctx=6, bos=False, bos_token=None)


@pytest.fixture(scope="module")
def mess3_prefixes():
    p = hmm.get_process("mess3", x=0.05, alpha=0.85)
    return tree_prefixes(hmm.mixed_state_presentation(p, 6), LAYOUT)


def test_matches_sklearn_with_sample_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 6)) * np.array([1.0, 30.0, 0.01, 2.0, 1.0, 5.0]) + 7.0
    y = rng.normal(size=(400, 3))
    w = rng.random(400) ** 3
    ours = fit_affine(x, y, w)
    ref = LinearRegression().fit(x, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_DxC.T, ref.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.intercept_C, ref.intercept_, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(ours.predict(x), ref.predict(x), atol=1e-9)


def test_rank_deficient_design_gives_the_same_fitted_values():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 4))
    y = rng.normal(size=(300, 2))
    w = rng.random(300)
    doubled = np.concatenate([x, x[:, :2], np.ones((300, 1))], axis=1)  # repeated and constant columns
    fit = fit_affine(doubled, y, w)
    assert fit.rank == 4
    ref = LinearRegression().fit(x, y, sample_weight=w)
    np.testing.assert_allclose(fit.predict(doubled), ref.predict(x), atol=1e-9)


def test_exact_affine_image_of_beliefs_has_r2_one(mess3_prefixes):
    rng = np.random.default_rng(2)
    beliefs = mess3_prefixes.beliefs
    acts = {"site": (beliefs @ rng.normal(size=(3, 16)) + rng.normal(size=16)).astype(np.float64)}
    out = measure(acts, mess3_prefixes, {"site": ("site",)}, Settings(num_shuffles=0, cv_folds=0))
    for target in ("belief", "next_token"):
        metrics = out["site"].targets[target].metrics
        assert metrics["r2"] == pytest.approx(1.0, abs=1e-9)
        assert metrics["rmse"] < 1e-6
    np.testing.assert_allclose(out["site"].targets["belief"].predicted_NxC, beliefs, atol=1e-6)


def test_no_signal_gives_r2_near_zero(mess3_prefixes):
    n = mess3_prefixes.num_prefixes
    acts = {"site": np.random.default_rng(3).normal(size=(n, 2))}
    out = measure(acts, mess3_prefixes, {"site": ("site",)}, Settings(weighting="uniform", num_shuffles=0, cv_folds=0))
    assert abs(out["site"].targets["belief"].metrics["r2"]) < 0.02


def test_paper_weighting_is_unweighted_ols_over_every_sequence_and_position(mess3_prefixes):
    """The original paper: OLS over all full-length sequences x positions, each token-level row once."""
    ps = mess3_prefixes
    rng = np.random.default_rng(4)
    acts_N = np.tanh(ps.beliefs @ rng.normal(size=(3, 5))) + 0.05 * rng.normal(size=(ps.num_prefixes, 5))
    tree = hmm.mixed_state_presentation(ps.process, 6)
    tokens, _, beliefs_MxLxS = tree.sequences(6)
    # token-level rows: prefix of sequence m up to position t, located by its code among the tree's rows
    codes = np.zeros(len(tokens), np.int64)
    rows = []
    for t in range(6):
        codes = codes * 3 + tokens[:, t]
        level = tree.level(t + 1)
        rows.append(level.start + np.searchsorted(tree.codes[level], codes))
    rows = np.stack(rows, 1).ravel()
    x_tok, y_tok = acts_N[rows], beliefs_MxLxS.reshape(-1, 3)
    ref = LinearRegression().fit(x_tok, y_tok)
    mse_ref = np.mean((ref.predict(x_tok) - y_tok) ** 2)
    out = measure({"site": acts_N}, ps, {"site": ("site",)}, Settings(weighting="paper", num_shuffles=0, cv_folds=0))
    metrics = out["site"].targets["belief"].metrics
    assert metrics["mse_paper"] == pytest.approx(mse_ref, rel=1e-8)
    assert metrics["r2"] == pytest.approx(weighted_r2(y_tok, ref.predict(x_tok), np.ones(len(y_tok))), rel=1e-8)


def test_a_next_token_representation_is_not_a_belief_representation():
    """RRXOR: activations that encode only the Bayes next-token distribution fit that target exactly and the
    belief state poorly; the two regressions separate the hypotheses."""
    p = hmm.get_process("rrxor")
    ps = tree_prefixes(hmm.mixed_state_presentation(p, 6), SimpleNamespace(n_ctx=6, bos=False, bos_token=None))
    predictive = hmm.predictive_distribution(p, ps.beliefs)
    acts = {"site": predictive @ np.random.default_rng(5).normal(size=(2, 8))}
    out = measure(acts, ps, {"site": ("site",)}, Settings(num_shuffles=0, cv_folds=0))["site"].targets
    assert out["next_token"].metrics["r2"] == pytest.approx(1.0, abs=1e-9)
    assert out["belief"].metrics["r2"] < 0.5


def _pcr_predictions(x, y, w, rcond, x_new):
    """Principal-component regression by SVD of the weighted centred design (an independent route)."""
    mean_x, mean_y = np.average(x, axis=0, weights=w), np.average(y, axis=0, weights=w)
    root = np.sqrt(w)[:, None]
    u, s, vt = np.linalg.svd(root * (x - mean_x), full_matrices=False)
    k = int(np.sum(s > rcond * s[0]))
    beta = vt[:k].T @ ((u[:, :k].T @ (root * (y - mean_y))) / s[:k, None])
    return (x_new - mean_x) @ beta + mean_y, k


def test_rcond_drops_weak_design_directions_as_principal_component_regression():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 8)) @ np.diag([10.0, 5.0, 3.0, 1.0, 0.3, 0.05, 0.01, 0.001]) @ rng.normal(size=(8, 8))
    y = x[:, :2] @ rng.normal(size=(2, 3)) + rng.normal(size=(300, 3))
    w = rng.random(300) ** 2
    for rcond in (1e-2, 1e-1):
        fit = fit_affine(x, y, w, rcond=rcond)
        expected, k = _pcr_predictions(x, y, w, rcond, x)
        assert fit.rank == k < 8
        np.testing.assert_allclose(fit.predict(x), expected, atol=1e-8)
    full = fit_affine(x, y, w)
    assert full.rank == 8
    assert weighted_r2(y, full.predict(x), w) > weighted_r2(y, fit.predict(x), w)
