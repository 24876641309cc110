"""In-context estimators of the next token (add-alpha n-gram counts over the sequence so far) and the KL
learning curve of any predictor against the Bayes prediction.

Position t has seen `x_0..x_t` and predicts `x_{t+1}`. The order-1 (unigram) estimator counts `x_0..x_t`;
order n >= 2 counts the transitions `context -> next` seen so far whose context (the n - 1 tokens before
the next one) equals the current last n - 1 tokens; before a full context exists it is uniform.
"""

import numpy as np
from scipy.special import xlogy

import hmm

MAX_CELLS = 1024  # (context, next token) cells an estimator may count (memory: N x T x cells floats)


def _onehot_cumsum(index_NxT: np.ndarray, valid_NxT: np.ndarray, cells: int) -> np.ndarray:
    """`[N, T, cells]`: for each position, how many valid events at or before it fell in each cell."""
    N, T = index_NxT.shape
    onehot = np.zeros((N, T, cells))
    n, t = np.nonzero(valid_NxT)
    onehot[n, t, index_NxT[n, t]] = 1.0
    return np.cumsum(onehot, axis=1)


def context_codes(tokens_NxT: np.ndarray, vocab_size: int, width: int) -> np.ndarray:
    """`[N, T]`: the base-V code of the (up to) `width` tokens ending at each position, the latest least
    significant; tokens before the sequence's start count as 0 (so a short prefix has its own code)."""
    tokens = np.asarray(tokens_NxT, np.int64)
    code = np.zeros(tokens.shape, np.int64)
    for j in range(width):  # a loop over the context width, not over tokens
        code[:, j:] += tokens[:, : tokens.shape[1] - j] * vocab_size**j
    return code


def ngram_predictions(tokens_NxT: np.ndarray, vocab_size: int, order: int, alpha: float) -> np.ndarray:
    """`[N, T, V]`: the add-`alpha` order-`order` estimate of `x_{t+1}` from `x_0..x_t` at every position
    (orders 1 and 2 are `hmm.unigram_predictive` and `hmm.bigram_predictive`)."""
    tokens = np.asarray(tokens_NxT, np.int64)
    V = vocab_size
    if order < 1 or V**order > MAX_CELLS:
        raise ValueError(f"order={order} is invalid: need 1 <= order and V^order <= {MAX_CELLS} (V = {V})")
    if order <= 2:
        predictor = hmm.unigram_predictive if order == 1 else hmm.bigram_predictive
        return np.asarray(predictor(tokens, V, alpha), np.float64)
    N, T = tokens.shape
    width = order - 1
    ctx = context_codes(tokens, V, width)
    positions = np.arange(T)
    # event at s: (context ending at s, the token at s + 1), counted from position s + 1 on
    event = np.zeros((N, T), np.int64)
    event[:, 1:] = ctx[:, :-1] * V + tokens[:, 1:]
    valid = np.broadcast_to(positions - 1 >= width - 1, (N, T)) & (positions >= 1)
    seen = _onehot_cumsum(event, valid, V**order).reshape(N, T, V**width, V)
    counts = np.take_along_axis(seen, ctx[:, :, None, None], axis=2)[:, :, 0]
    counts = np.where((positions >= width - 1)[None, :, None], counts, 0.0)
    return (counts + alpha) / (counts.sum(-1, keepdims=True) + alpha * V)


def kl_rows(p_NxV: np.ndarray, q_NxV: np.ndarray) -> np.ndarray:
    """`KL(p || q)` per row, in nats (`0 log 0 = 0`)."""
    p = np.asarray(p_NxV, np.float64)
    return np.sum(xlogy(p, p) - xlogy(p, np.asarray(q_NxV, np.float64)), axis=-1)


def kl_curve(bayes_NxTxV: np.ndarray, q_NxTxV: np.ndarray) -> np.ndarray:
    """`[T]`: mean over sequences of `KL(Bayes || q)` at each position (the in-context learning curve)."""
    return kl_rows(bayes_NxTxV, q_NxTxV).mean(axis=0)


def estimator_curves(tokens_NxT, bayes_NxTxV, vocab_size: int, orders, alpha: float) -> dict:
    """`{f"{order}-gram": KL curve [T]}` for each order whose table fits (`MAX_CELLS`)."""
    return {
        f"{n}-gram": kl_curve(bayes_NxTxV, ngram_predictions(tokens_NxT, vocab_size, n, alpha))
        for n in orders
        if vocab_size**n <= MAX_CELLS
    }
