"""The future lens on text: streamed statistics solve the least squares of rows gathered one by one, the
skip-bigram table against plain counting, and precision@1 against a numpy readout of the same predictions."""

from collections import Counter

import numpy as np
import pytest

from analysis.lenses.future_stats import solve, step_statistics
from analysis.lenses.future_text import future_lens_precision, skip_bigram_table
from analysis.lenses.text_rows import block_input_sites, residual_rows
from tests.analysis.lenses.tiny_llm import N_LAYERS, D, V, tiny_llama

SITES = block_input_sites(N_LAYERS)
H = 3  # horizons 0..2


@pytest.fixture(scope="module")
def model():
    return tiny_llama()


def test_streamed_statistics_solve_the_least_squares_of_rows_gathered_one_by_one(model):
    batches = [np.random.default_rng(s).integers(0, V, (3, 12)) for s in range(2)]
    total = None
    X, Y = [], []
    for tokens in batches:
        _, acts = model(tokens, capture=SITES)
        h = np.stack([np.asarray(acts[s]) for s in SITES])
        stats = step_statistics(h, np.asarray(acts[SITES[-1]]), H - 1)
        stats = {k: np.asarray(v, np.float64) for k, v in stats.items()}
        total = stats if total is None else {k: total[k] + stats[k] for k in total}
        for b in range(3):
            for t in range(12 - 1 - (H - 1)):
                X.append(h[:, b, t])
                Y.append([np.asarray(acts[SITES[-1]])[b, t + n] for n in range(H)])
    X, Y = np.asarray(X, np.float64), np.asarray(Y, np.float64)  # [R, S, D], [R, H, D]
    assert total["rows"] == len(X)
    W = solve(total, ridge=1e-10)
    for s in range(len(SITES)):
        x1 = np.concatenate([X[:, s], np.ones((len(X), 1))], 1)
        for n in range(H):
            expected = np.linalg.lstsq(x1, Y[:, n], rcond=None)[0]
            np.testing.assert_allclose(x1 @ W[s, n], x1 @ expected, atol=2e-3 * np.abs(Y[:, n]).max())


def test_skip_bigram_table_against_counting():
    ids = np.random.default_rng(0).integers(0, 7, 400)
    ids[ids == 5] = 4  # token 5 never occurs
    for offset in (1, 3):
        table = skip_bigram_table(ids, offset, 8)
        pairs = Counter(zip(ids[:-offset].tolist(), ids[offset:].tolist()))
        for a in range(8):
            seen = {b: c for (x, b), c in pairs.items() if x == a}
            if seen:
                assert table[a] == min(b for b, c in seen.items() if c == max(seen.values()))
            else:
                assert table[a] == Counter(ids[offset:].tolist()).most_common(1)[0][0]


def _rms_readout_argmax(model, h):
    w = np.asarray(model.ln_final.w[...], np.float64)
    normed = h / np.sqrt((h * h).mean(-1, keepdims=True) + 1e-5) * w
    return (normed @ np.asarray(model.W_U[...], np.float64)).argmax(-1)


def test_precision_against_a_numpy_readout(model):
    windows = np.random.default_rng(5).integers(0, V, (3, 10))
    resid, _ = residual_rows(model, windows, SITES)
    W = np.random.default_rng(6).normal(0, 0.5, (len(SITES), H, D + 1, D))
    W[-1, 0] = np.vstack([np.eye(D), np.zeros((1, D))])  # the final site at N = 0: the model itself
    train_ids = np.random.default_rng(7).integers(0, V, 2000)
    out = future_lens_precision(model, W, resid, windows, SITES, train_ids)
    T = 10 - 1 - (H - 1)
    final = resid[SITES[-1]].reshape(3, 9, D).astype(np.float64)
    model_top1 = _rms_readout_argmax(model, final)
    assert out["rows"] == 3 * T and out["vs_model"][-1][0] == 1.0
    for s, site in enumerate(SITES):
        x = resid[site].reshape(3, 9, D)[:, :T].astype(np.float64)
        for n in range(H):
            pred = _rms_readout_argmax(model, np.concatenate([x, np.ones((3, T, 1))], -1) @ W[s, n])
            assert out["vs_model"][s][n] == pytest.approx((pred == model_top1[:, n : n + T]).mean())
            assert out["vs_real"][s][n] == pytest.approx((pred == windows[:, 1 + n : 1 + n + T]).mean())
    for n in range(H):
        guess = skip_bigram_table(train_ids, 1 + n, V)[windows[:, :T]]
        assert out["bigram_vs_real"][n] == pytest.approx((guess == windows[:, 1 + n : 1 + n + T]).mean())
