"""Token-history baselines, the prediction-only ceiling, stratified and nested cross-validation, the ladder."""

from types import SimpleNamespace

import numpy as np
import pytest
from flax import nnx

import hmm
import models
from analysis.atomic import plain
from analysis.ladder.baselines import linear_history, lookup_heldout, lookup_history
from analysis.ladder.ladder import referee_ladder
from analysis.ladder.nested_cv import nested_cv
from analysis.ladder.prediction_ceiling import prediction_ceiling, shared_prediction_pairs
from analysis.regression.analyze import analyze
from analysis.regression.fit import fit_affine
from analysis.regression.folds import belief_classes, group_folds, stratified_folds
from analysis.regression.metrics import weighted_r2
from analysis.regression.prefixes import tree_prefixes
from experiments.config.experiment import load_config
from experiments.report.ladder import ladder_rows
from models.config import ConfigError

LAYOUT = SimpleNamespace(n_ctx=5, bos=False, bos_token=None)


def _prefixes(process, length=5):
    return tree_prefixes(hmm.mixed_state_presentation(process, length), LAYOUT)


@pytest.fixture(scope="module")
def mess3_prefixes():
    return _prefixes(hmm.get_process("mess3", x=0.05, alpha=0.85))


def markov_order_one(vocab_size=3, seed=0):
    """The hidden state is the last token: T[x, i, j] = P(x | i) when j == x, so the belief is e_(last token)."""
    rng = np.random.default_rng(seed)
    emit_SxV = rng.dirichlet(np.ones(vocab_size), size=vocab_size)
    T = np.zeros((vocab_size, vocab_size, vocab_size))
    for x in range(vocab_size):
        T[x, :, x] = emit_SxV[:, x]
    return hmm.from_matrices(T, name="markov1")


def _naive_design(prefixes, k):
    """One-hot last-k tokens (with an 'absent' slot) + one-hot length + intercept, built prefix by prefix."""
    V = prefixes.process.vocab_size
    lengths = sorted(set(prefixes.lengths.tolist()))
    rows = []
    for code, length in zip(prefixes.codes.tolist(), prefixes.lengths.tolist()):
        tokens = [(code // V**i) % V for i in range(length)][::-1]  # first token first
        row = [1.0] + [1.0 if length == L else 0.0 for L in lengths]
        for j in range(1, k + 1):
            slot = [0.0] * (V + 1)
            slot[tokens[-j] if j <= length else V] = 1.0
            row += slot
        rows.append(row)
    return np.array(rows)


def _lstsq_predict(x_train, y_train, w_train, x_test):
    sw = np.sqrt(w_train)[:, None]
    coef = np.linalg.lstsq(x_train * sw, y_train * sw, rcond=None)[0]
    return x_test @ coef


def test_linear_baseline_matches_a_brute_force_fit(mess3_prefixes):
    p = mess3_prefixes
    y, w = p.beliefs, p.probs
    fold_N = np.random.default_rng(3).permutation(p.num_prefixes) % 4
    ours = linear_history(p, y, w, [fold_N], max_k=3)
    for entry in ours:
        x = _naive_design(p, entry["k"])
        assert entry["r2"] == pytest.approx(weighted_r2(y, _lstsq_predict(x, y, w, x), w), abs=1e-8)
        held = np.empty_like(y)
        for f in range(4):
            train, test = fold_N != f, fold_N == f
            held[test] = _lstsq_predict(x[train], y[train], w[train], x[test])
        assert entry["cv"]["r2"]["values"][0] == pytest.approx(weighted_r2(y, held, w), abs=1e-8)
    assert ours[0]["r2"] < ours[-1]["r2"] < 1.0  # longer histories explain more, never all of Mess3's belief


def test_lookup_baseline_matches_brute_force_cell_means(mess3_prefixes):
    p = mess3_prefixes
    V, y, w = p.process.vocab_size, p.beliefs, p.probs
    fold_N = np.arange(p.num_prefixes) % 3
    for entry in lookup_history(p, y, w, [fold_N], max_k=3):
        cells = {}
        for i, (code, length) in enumerate(zip(p.codes.tolist(), p.lengths.tolist())):
            cells.setdefault((length, code % V ** entry["k"]), []).append(i)
        pred = np.empty_like(y)
        for members in cells.values():
            pred[members] = w[members] @ y[members] / w[members].sum()
        assert entry["cells"] == len(cells)
        assert entry["r2"] == pytest.approx(weighted_r2(y, pred, w), abs=1e-10)


def test_lookup_heldout_backs_off_like_a_row_by_row_scan():
    """Every held-out row, by brute force: the finest level whose cell holds a training row of positive
    weight gives the weighted training mean of that cell; with none, the training mean."""
    rng = np.random.default_rng(4)
    N = 60
    y = rng.random((N, 3))
    w = rng.random(N) * (rng.random(N) > 0.2)  # some rows weigh nothing
    fold_N = rng.integers(0, 3, N) * 7 + 1  # arbitrary fold labels
    chain = [(rng.integers(0, n, N), n) for n in (2, 9, 40)]
    preds, seen = lookup_heldout(chain, y, w, fold_N)
    for level in range(len(chain)):
        expected, seen_weight = np.empty_like(y), 0.0
        for i in range(N):
            train = (fold_N != fold_N[i]) & (w > 0)
            value = w[train] @ y[train] / w[train].sum()
            for inverse, _ in chain[: level + 1]:
                cell = train & (inverse == inverse[i])
                if cell.any():
                    value = w[cell] @ y[cell] / w[cell].sum()
            expected[i] = value
            seen_weight += w[i] * (train & (chain[level][0] == chain[level][0][i])).any()
        np.testing.assert_allclose(preds[level], expected, rtol=1e-12, atol=1e-12)
        assert seen[level] == pytest.approx(seen_weight / w.sum(), abs=1e-12)


def test_belief_a_function_of_the_last_token_is_met_by_the_lookup():
    process = markov_order_one()
    p = _prefixes(process)
    np.testing.assert_allclose(p.beliefs, np.eye(3)[p.codes % 3], atol=1e-12)  # the construction is right
    folds = [stratified_folds(belief_classes(p.beliefs), 5, np.random.default_rng(i)) for i in range(2)]
    lookup = lookup_history(p, p.beliefs, p.probs, folds, max_k=2)
    assert lookup[0]["r2"] == pytest.approx(1.0, abs=1e-12)
    assert lookup[0]["cv"]["r2"]["mean"] == pytest.approx(1.0, abs=1e-12)
    cfg = models.ModelConfig(n_layers=1, d_model=8, n_heads=1, d_head=4, d_mlp=16, n_ctx=5, vocab_size=3)
    model = models.Transformer(cfg, rngs=nnx.Rngs(0))
    result = analyze(model, process, num_shuffles=5, num_cv_shuffles=2, cv_folds=3, figures=False)
    ladder = referee_ladder(result, model, max_k=2, fold_seeds=2, weightings=("prob",), pairs=False)
    again = referee_ladder(result, model, max_k=2, fold_seeds=2, weightings=("prob",), pairs=False)
    assert plain({**ladder, "seconds": None}) == plain({**again, "seconds": None})  # bit-identical
    group = result.headline()["site"]
    ratio = ladder["weightings"]["prob"]["ratios"][group]["lookup"][0]
    assert ratio == {"k": 1, "ratio": None, "baseline_perfect": True}
    rows = ladder_rows(ladder, "prob", group)
    assert any(r[0].startswith("lookup of (length, last 1 token)") and r[3] == "baseline perfect" for r in rows)


def test_stratified_folds_keep_every_shared_belief_in_every_training_fold():
    rng = np.random.default_rng(4)
    class_N = rng.integers(0, 60, size=500) ** 2 % 97  # uneven classes, some singletons
    for seed in range(3):
        fold_N = stratified_folds(class_N, 5, np.random.default_rng(seed))
        assert np.bincount(fold_N).max() - np.bincount(fold_N).min() <= 1  # balanced
        for c in np.unique(class_N):
            members = class_N == c
            if members.sum() >= 2:
                for f in range(5):
                    assert np.any(members & (fold_N != f)), (c, f)
                assert len(np.unique(fold_N[members])) == min(5, members.sum())
        grouped = group_folds(class_N, 5, np.random.default_rng(seed))
        assert all(len(np.unique(grouped[class_N == c])) == 1 for c in np.unique(class_N))
        assert len(np.unique(grouped)) == 5


@pytest.mark.parametrize("d", [30, 80, 300])  # inner errors from moments (30), rows (80); kernel eigh (300)
def test_nested_cv_is_plain_cv_for_one_rcond_and_never_sees_the_held_out_fold(d):
    rng = np.random.default_rng(5)
    n = 240
    x = rng.normal(size=(n, d)) @ np.diag(np.logspace(0, -6 if d < n else -2, d))  # ill-conditioned: rcond matters
    y = x[:, :3] @ rng.normal(size=(3, 2)) * 50 + rng.normal(size=(n, 2)) * 0.3
    w = rng.random(n) + 0.1
    fold_N = rng.permutation(n) % 4
    rcond = 1e-12 if d < n else 1e-4  # wider than the data: compare with the primal fit on the training rows
    plain = nested_cv({"x": x}, {"x": ["x"]}, y, w, fold_N, [rcond])["x"].yhat_NxC
    design = np.concatenate([x, np.ones((n, 1))], axis=1)
    for f in range(4):
        train, test = fold_N != f, fold_N == f
        expected = (
            _lstsq_predict(design[train], y[train], w[train], design[test])
            if d < n
            else fit_affine(x[train], y[train], w[train], rcond=rcond).predict(x[test])
        )
        np.testing.assert_allclose(plain[test], expected, atol=1e-6)
    nested = nested_cv({"x": x}, {"x": ["x"]}, y, w, fold_N, [1e-8, 1e-4, 1e-2, 1e-1])["x"]
    poisoned_y = y.copy()
    poisoned_y[fold_N == 0] = 1e6 * rng.normal(size=(np.sum(fold_N == 0), 2))
    poisoned = nested_cv({"x": x}, {"x": ["x"]}, poisoned_y, w, fold_N, [1e-8, 1e-4, 1e-2, 1e-1])["x"]
    assert poisoned.rcond_F[0] == nested.rcond_F[0]
    np.testing.assert_array_equal(poisoned.yhat_NxC[fold_N == 0], nested.yhat_NxC[fold_N == 0])
    assert not np.allclose(poisoned.yhat_NxC[fold_N == 1], nested.yhat_NxC[fold_N == 1])  # the poison is live


def test_prediction_ceiling_on_rrxor_matches_brute_force_grouping():
    p = _prefixes(hmm.get_process("rrxor"), 6)
    w = p.probs
    section, beyond = prediction_ceiling(p, w, [np.arange(p.num_prefixes) % 3])
    predictive = hmm.predictive_distribution(p.process, p.beliefs)
    groups = {}
    for i, row in enumerate(np.round(predictive, 9)):
        groups.setdefault(tuple(row), []).append(i)
    best = np.empty_like(p.beliefs)
    for members in groups.values():
        best[members] = w[members] @ p.beliefs[members] / w[members].sum()
    assert section["num_next_token_groups"] == len(groups)
    assert section["best_function_r2"] == pytest.approx(weighted_r2(p.beliefs, best, w), abs=1e-10)
    np.testing.assert_allclose(beyond, p.beliefs - best, atol=1e-12)
    design = np.concatenate([predictive, np.ones((p.num_prefixes, 1))], axis=1)
    affine = _lstsq_predict(design, p.beliefs, w, design)
    assert section["affine_r2"] == pytest.approx(weighted_r2(p.beliefs, affine, w), abs=1e-8)
    assert section["affine_r2"] <= section["best_function_r2"] < 1.0  # RRXOR's belief is more than its prediction


def test_shared_prediction_pairs_match_a_brute_force_scan_of_all_belief_pairs():
    p = _prefixes(hmm.get_process("rrxor"), 6)
    classes, pairs = shared_prediction_pairs(p, min_members=2)
    beliefs = [p.beliefs[np.flatnonzero(classes == c)[0]] for c in range(int(classes.max()) + 1)]
    predictive = hmm.predictive_distribution(p.process, np.array(beliefs))
    sizes = np.bincount(classes)
    brute = {
        (a, b, int(sizes[a] + sizes[b]))
        for a in range(len(beliefs))
        for b in range(a + 1, len(beliefs))
        if sizes[a] >= 2 and sizes[b] >= 2 and np.allclose(predictive[a], predictive[b], atol=1e-9)
    }
    assert brute and set(pairs) == brute and len(pairs) == len(brute)
    assert [n for _, _, n in pairs] == sorted((n for _, _, n in pairs), reverse=True)


def test_config_errors_name_the_field():
    with pytest.raises(ConfigError, match=r"config\.ladder\.fold_seeds=0"):
        load_config("smoke", ["ladder.fold_seeds=0"])
    with pytest.raises(ConfigError, match=r"config\.ladder\.fold_seeds=0"):  # the section's old name still reads
        load_config("smoke", ["baselines.fold_seeds=0"])
    with pytest.raises(ConfigError, match=r"config\.ladder\.weightings"):
        load_config("smoke", ["ladder.weightings=[prob,bogus]"])


def test_ladder_stage_records_figures_tables_and_seed_summary(tmp_path):
    import copy

    from experiments.config.ladder import LadderConfig
    from experiments.report.ladder import ladder_tables
    from experiments.seed_ladder import summarise
    from experiments.stages.ladder import add_ladder

    process = hmm.get_process("mess3")
    cfg = models.ModelConfig(n_layers=1, d_model=8, n_heads=1, d_head=4, d_mlp=16, n_ctx=4, vocab_size=3)
    model = models.Transformer(cfg, rngs=nnx.Rngs(1))
    result = analyze(model, process, num_shuffles=5, num_cv_shuffles=2, cv_folds=3, figures=False)
    report = result.to_dict()
    add_ladder(report, result, model, tmp_path, LadderConfig(fold_seeds=2, max_k=2))
    assert (tmp_path / report["figures"]["ladder"]).is_file()
    assert (tmp_path / report["figures"]["geometry_by_length"]).is_file()
    assert set(report["ladder"]["weightings"]) == {"prob", "uniform"}
    assert [table[0] for table in ladder_tables(report) if table[2]][0].startswith("Ladder")
    reports = []
    for shift in (0.0, 0.01, 0.03):
        r = copy.deepcopy(report)
        net = r["ladder"]["weightings"]["prob"]["network"][r["headline"]["belief"]["site"]]
        net["cv"]["r2"]["mean"] -= shift
        reports.append(r)
    summary = summarise(reports)["weightings"]["prob"]["headline_cv_r2"]
    values = np.array(
        [
            r["ladder"]["weightings"]["prob"]["network"][r["headline"]["belief"]["site"]]["cv"]["r2"]["mean"]
            for r in reports
        ]
    )
    assert summary["mean"] == pytest.approx(values.mean()) and summary["sd"] == pytest.approx(values.std(ddof=1))
