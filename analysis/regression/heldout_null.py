"""Held-out shuffle null: the cross-validated R^2 of fits onto permuted targets.

Under probability weighting a few short prefixes carry most of the weight, so the in-sample null's mean is
about (coefficients / effective sample size), far above zero. The held-out null asks what the held-out R^2
asks (does the map predict prefixes its fit never saw?) and sits at or below zero for a map that learned
nothing. Activations never move, so each fold's whitening serves every permutation: the fit on permuted
targets is `beta = whiten whiten^T cross_p`, and one product of the whole design with the permuted targets
gives every group's `cross_p` in every fold.
"""

import numpy as np

from analysis.regression.nulls import permuted_basis, permuted_totals, quadratic_form, target_basis, target_metrics


def heldout_shuffle_r2(
    x_NxD: np.ndarray, w_N: np.ndarray, targets: dict, fits: dict, fold_starts, means_FxD: np.ndarray, permutations
) -> dict:
    """`{group: {target: held-out r2 [P]}}` of k-fold fits onto permuted targets.

    `x_NxD` is the design with rows in fold order, `fits = {group: [Solution per fold]}` (each leaving its
    fold out, as `crossval.fold_fits` makes them), `means_FxD` each fold's training mean of every column
    (`crossval.fold_means`), and `permutations` yields int arrays `[c, N]`.
    """
    w = np.asarray(w_N, np.float64)
    basis_NxK, v_KxC, spans = target_basis(targets)
    basis_KxN = np.ascontiguousarray(basis_NxK.T)
    K = len(basis_KxN)
    metrics = target_metrics(v_KxC, spans)
    folds = [slice(int(a), int(b)) for a, b in zip(fold_starts[:-1], fold_starts[1:])]
    out = {g: {t: [] for t in targets} for g in fits}
    for perm_cxN in permutations:
        c = len(perm_cxN)
        gathered_KcxN, weighted_KcxN = permuted_basis(basis_KxN, perm_cxN, w)
        totals = permuted_totals(gathered_KcxN, weighted_KcxN, w, v_KxC, spans)
        cross_DxKc, wsum_Kc = x_NxD.T @ weighted_KcxN.T, weighted_KcxN.sum(1)
        sse = {g: {t: np.zeros(c) for t in targets} for g in fits}
        for f, rows in enumerate(folds):
            x_test = x_NxD[rows]
            train_wsum_Kc = wsum_Kc - weighted_KcxN[:, rows].sum(1)
            train_cross_DxKc = (
                cross_DxKc - x_test.T @ weighted_KcxN[:, rows].T - np.outer(means_FxD[f], train_wsum_Kc)
            )  # centred at the training mean
            train_mean_Kc = train_wsum_Kc / (w.sum() - w[rows].sum())
            for g, per_fold in fits.items():
                fit = per_fold[f]
                beta_DxKc = fit.whiten_DxR @ (fit.whiten_DxR.T @ train_cross_DxKc[fit.idx])
                pred_NxKc = (x_test[:, fit.idx] - means_FxD[f][fit.idx]) @ beta_DxKc + train_mean_Kc
                err_KxcN = gathered_KcxN[:, rows].reshape(K, -1) - pred_NxKc.T.reshape(K, -1)
                for t, metric_KxK in metrics.items():
                    sse[g][t] += quadratic_form(err_KxcN, metric_KxK).reshape(c, -1) @ w[rows]
        for g in fits:
            for t in targets:
                out[g][t].append(1.0 - sse[g][t] / totals[t])
    return {g: {t: np.concatenate(v) for t, v in per.items()} for g, per in out.items()}
