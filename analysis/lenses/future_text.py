"""The future lens on real text, scored on held-out windows: precision@1 of the token at `t + 1 + N` against
the model's own prediction there and against the real token, beside a skip-bigram baseline (the most frequent
token `1 + N` places after the current one in the training text)."""

from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from analysis.lenses.future_stats import with_bias


def skip_bigram_table(ids_N, offset: int, vocab_size: int) -> np.ndarray:
    """`table[a]` = the token most often seen `offset` places after `a` in `ids_N` (ties: the smaller id);
    tokens never seen take the most frequent token at that offset overall."""
    ids = np.asarray(ids_N, np.int64)
    first, then = ids[:-offset], ids[offset:]
    codes, counts = np.unique(first * vocab_size + then, return_counts=True)
    a, b = codes // vocab_size, codes % vocab_size
    order = np.lexsort((b, -counts, a))
    a, b = a[order], b[order]
    head = np.r_[True, a[1:] != a[:-1]]
    table = np.full(vocab_size, np.bincount(then, minlength=vocab_size).argmax(), np.int64)
    table[a[head]] = b[head]
    return table


@lru_cache(maxsize=8)
def _argmax_program(graphdef, batch: int):
    def run(state, x_RxD):
        model = nnx.merge(graphdef, state)
        pad = -x_RxD.shape[0] % batch
        x = jnp.pad(x_RxD, ((0, pad), (0, 0))).reshape(-1, batch, x_RxD.shape[1])
        ids = jax.lax.map(lambda h: model.logits_from_residual(h).argmax(-1), x)
        return ids.reshape(-1)[: x_RxD.shape[0]]

    return jax.jit(run)


def readout_argmax(model, h_NxD, batch: int = 256) -> np.ndarray:
    """The readout's top-1 token of each row (full vocabulary), in jitted batches."""
    graphdef, state = nnx.split(model)
    return np.asarray(_argmax_program(graphdef, batch)(state, jnp.asarray(h_NxD, jnp.float32)))


def future_lens_precision(model, W_SxHxD1xD, resid: dict, windows_WxL, sites, train_ids_N) -> dict:
    """Precision@1 per site and horizon on held-out windows.

    `resid = {site: [W * (L - 1), D]}`: rows of `windows_WxL` (every position but the last, windows in order)
    for `sites` and the final site (the last key). Rows used: positions `t <= L - 2 - H`. Returns `{"sites",
    "horizons", "rows", "vs_model" [S][H], "vs_real" [S][H], "bigram_vs_model" [H], "bigram_vs_real" [H]}`;
    "model" = the model's own top-1 at `t + N` (its prediction of token `t + 1 + N`).
    """
    windows = np.asarray(windows_WxL)
    W, L = windows.shape
    H = W_SxHxD1xD.shape[1]
    T = L - 1 - (H - 1)
    rows = lambda a: np.asarray(a).reshape(W, L - 1, -1)
    final = rows(resid[list(resid)[-1]])
    model_top1_WxL1 = readout_argmax(model, final.reshape(-1, final.shape[-1])).reshape(W, L - 1)
    real_WxL1, current_WxT = windows[:, 1:], windows[:, :T]
    model_top1 = np.stack([model_top1_WxL1[:, n : n + T] for n in range(H)]).reshape(H, -1)
    real = np.stack([real_WxL1[:, n : n + T] for n in range(H)]).reshape(H, -1)
    vs_model, vs_real = [], []
    for s, site in enumerate(sites):
        x = np.asarray(with_bias(jnp.asarray(rows(resid[site])[:, :T].reshape(W * T, -1))), np.float64)
        pred = np.stack([readout_argmax(model, (x @ W_SxHxD1xD[s, n]).astype(np.float32)) for n in range(H)])
        vs_model.append((pred == model_top1).mean(1).tolist())
        vs_real.append((pred == real).mean(1).tolist())
    bigram = np.stack(
        [skip_bigram_table(train_ids_N, 1 + n, model.config.vocab_size)[current_WxT.reshape(-1)] for n in range(H)]
    )
    return {
        "sites": list(sites),
        "horizons": list(range(H)),
        "rows": int(W * T),
        "vs_model": vs_model,
        "vs_real": vs_real,
        "bigram_vs_model": (bigram == model_top1).mean(1).tolist(),
        "bigram_vs_real": (bigram == real).mean(1).tolist(),
    }
