"""Token-history baselines: how much of the belief the prefix's last k tokens and its length explain, with no
network. `linear`: the weighted affine regression onto one-hot tokens + position (the network's own fit, held
out the same way); `lookup`: the weighted mean belief of each (length, last k tokens) cell, held out by
backing off to the finest cell the training folds saw."""

import numpy as np

from analysis.ladder.heldout_summary import seed_summary
from analysis.ladder.nested_cv import nested_cv
from analysis.ladder.token_history import history_groups, onehot_blocks, suffix_keys, suffix_keys_any_length
from analysis.regression.fit import RCOND, solve
from analysis.regression.metrics import weighted_r2
from analysis.regression.moments import design, moments


def in_sample(blocks: dict, groups: dict, y_NxC, w_N, rcond: float = RCOND) -> dict:
    """`{group: yhat [N, C]}`: each group's weighted affine fit on all rows."""
    names = list(dict.fromkeys(b for members in groups.values() for b in members))
    d = design(blocks, names, w_N)
    m = moments(d, np.asarray(y_NxC, np.float64), np.asarray(w_N, np.float64))
    return {g: solve(m, d.indices(members), rcond=rcond).predict(d.x_NxD) for g, members in groups.items()}


def linear_history(prefixes, y_NxC, w_N, folds: list, max_k: int, rcond: float = RCOND) -> list[dict]:
    """Per k = 1..max_k: in-sample R^2 and held-out R^2 (one entry per fold assignment in `folds`) of the
    least-squares fit (`rcond`: one-hot designs have far fewer columns than prefixes, so no search)."""
    blocks = onehot_blocks(prefixes.codes, prefixes.lengths, prefixes.process.vocab_size, max_k)
    groups = history_groups(max_k)
    fitted = in_sample(blocks, groups, y_NxC, w_N, rcond)
    held = [nested_cv(blocks, groups, y_NxC, w_N, fold_N, [rcond]) for fold_N in folds]
    return [
        {
            "k": k,
            "columns": int(sum(blocks[b].shape[1] for b in groups[k])),
            "r2": weighted_r2(y_NxC, fitted[k], w_N),
            "cv": seed_summary(y_NxC, [h[k].yhat_NxC for h in held], w_N, prefixes.lengths),
        }
        for k in groups
    ]


def _cell_sums(keys_N, num_cells: int, y_NxC, w_N):
    """Per cell: the weighted sum of the target `[num_cells, C]` (one bincount over (cell, column)) and the
    weight `[num_cells]`."""
    C = y_NxC.shape[1]
    flat = (keys_N[:, None] * C + np.arange(C)).ravel()
    sums = np.bincount(flat, weights=(w_N[:, None] * y_NxC).ravel(), minlength=num_cells * C)
    return sums.reshape(num_cells, C), np.bincount(keys_N, weights=w_N, minlength=num_cells)


def _cell_means(inverse_N, num_cells: int, y_NxC, w_N):
    """Weighted mean target of every cell (cells without weight: 0)."""
    sums, mass = _cell_sums(inverse_N, num_cells, np.asarray(y_NxC), w_N)
    return sums / np.where(mass > 0, mass, 1.0)[:, None]


def lookup_heldout(chain: list, y_NxC, w_N, fold_N) -> tuple[list, list]:
    """Out-of-fold predictions at every level of `chain` (cell labellings `(inverse_N, num_cells)`, from the
    coarsest to the finest): each held-out row takes the mean of the finest cell (up to that level) with
    training mass, else the training mean; and per level the held-out weight share whose own cell was seen.

    All folds at once: per level one weighted count per (cell, fold); a fold's training totals are sums over
    the other folds, never the total minus the held-out part (which would cancel under probability weights)."""
    y = np.asarray(y_NxC, np.float64)
    w = np.asarray(w_N, np.float64)
    C = y.shape[1]
    fold_idx = np.unique(fold_N, return_inverse=True)[1].ravel()
    F = int(fold_idx.max()) + 1
    others_FxF = 1.0 - np.eye(F)  # row f sums the folds other than f
    positive = w > 0  # a cell is seen when a training row of positive weight falls in it

    def per_fold(keys, n):
        sums, mass = _cell_sums(keys, n * F, y, w)
        count = np.bincount(keys[positive], minlength=n * F).reshape(n, F).astype(np.float64)
        return mass.reshape(n, F) @ others_FxF.T, count @ others_FxF.T, others_FxF @ sums.reshape(n, F, C)

    mass_1xF, _, sums_1xFxC = per_fold(fold_idx, 1)
    current = (sums_1xFxC[0] / mass_1xF[0][:, None])[fold_idx]
    preds, seen = [], []
    for inverse, n in chain:
        mass, count, sums = per_fold(inverse * F + fold_idx, n)
        hit = count[inverse, fold_idx] > 0
        means = sums[inverse, fold_idx] / np.where(hit, mass[inverse, fold_idx], 1.0)[:, None]
        current = np.where(hit[:, None], means, current)
        preds.append(current)
        seen.append(w @ hit)
    return preds, list(np.array(seen) / w.sum())


def _labels(keys_N: np.ndarray) -> tuple:
    inverse = np.unique(keys_N, return_inverse=True)[1].ravel()
    return inverse, int(inverse.max()) + 1


def lookup_history(prefixes, y_NxC, w_N, folds: list, max_k: int) -> list[dict]:
    """Per k = 1..max_k: in-sample R^2 of the (length, last k tokens) cell means, the mean cell size, and
    held-out R^2 (one entry per fold assignment). A held-out prefix whose cell no training prefix shares
    backs off to its last k tokens at any length, then to (length, last k-1 tokens), and so on; `coverage`
    is the held-out weight share whose own cell was seen in training."""
    V = prefixes.process.vocab_size
    codes, lengths = prefixes.codes, prefixes.lengths
    chain = [_labels(suffix_keys(codes, lengths, V, 0))]  # the length alone
    for k in range(1, max_k + 1):
        chain += [_labels(suffix_keys_any_length(codes, lengths, V, k)), _labels(suffix_keys(codes, lengths, V, k))]
    w = np.asarray(w_N, np.float64)
    held = [lookup_heldout(chain, y_NxC, w, fold_N) for fold_N in folds]
    out = []
    for k in range(1, max_k + 1):
        level = 2 * k
        inverse, n = chain[level]
        means = _cell_means(inverse, n, y_NxC, w)
        cv = seed_summary(y_NxC, [preds[level] for preds, _ in held], w, prefixes.lengths)
        cv["coverage"] = float(np.mean([coverage[level] for _, coverage in held]))
        out.append(
            {"k": k, "cells": n, "mean_cell_size": len(w) / n, "r2": weighted_r2(y_NxC, means[inverse], w), "cv": cv}
        )
    return out
