"""In-context n-gram estimators against counts made by hand (a plain loop), and KL against numpy."""

import numpy as np
import pytest

from analysis.llm_beliefs.in_context import context_codes, kl_curve, ngram_predictions

TOKENS = np.array([[0, 1, 0, 1, 1, 2, 0, 1], [2, 2, 2, 0, 1, 2, 2, 0]])


def _by_hand(tokens, V, order, alpha):
    out = np.zeros(tokens.shape + (V,))
    for n, seq in enumerate(tokens.tolist()):
        for t in range(len(seq)):
            counts = np.zeros(V)
            if order == 1:
                for x in seq[: t + 1]:
                    counts[x] += 1
            elif t >= order - 2:
                context = seq[t - order + 2 : t + 1]
                for s in range(order - 1, t + 1):  # s = index of a "next" token fully seen
                    if seq[s - order + 1 : s] == context:
                        counts[seq[s]] += 1
            out[n, t] = (counts + alpha) / (counts.sum() + alpha * V)
    return out


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_ngram_estimators_match_hand_counts(order):
    np.testing.assert_allclose(
        ngram_predictions(TOKENS, 3, order, 0.5), _by_hand(TOKENS, 3, order, 0.5), atol=1e-6
    )  # orders 1 and 2 come from hmm's float32 predictors


def test_bigram_example_by_hand():
    # after 0 1 0 1 1 the context is "1"; transitions from 1 seen so far: 1->0, 1->1 (add-1 over 3 symbols)
    p = ngram_predictions(TOKENS, 3, 2, 1.0)[0, 4]
    np.testing.assert_allclose(p, [2 / 5, 2 / 5, 1 / 5], atol=1e-6)


def test_context_codes_put_the_latest_token_last_and_pad_the_start_with_zero():
    assert context_codes(np.array([[2, 1, 0, 2]]), 3, 2).tolist() == [[2, 2 * 3 + 1, 1 * 3 + 0, 0 * 3 + 2]]


def test_kl_curve_is_the_mean_kl_per_position():
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(3), (4, 5)), rng.dirichlet(np.ones(3), (4, 5))
    p[0, 0] = [1.0, 0.0, 0.0]  # an exact zero contributes nothing
    expected = np.mean(
        [[sum(a * np.log(a / b) for a, b in zip(p[n, t], q[n, t]) if a > 0) for t in range(5)] for n in range(4)],
        axis=0,
    )
    np.testing.assert_allclose(kl_curve(p, q), expected, atol=1e-12)
