"""Weighted affine least squares in closed form from one eigendecomposition of the centred weighted Gram."""

from dataclasses import dataclass

import numpy as np

from analysis.regression.moments import Moments, design, moments
from hmm.blas import one_blas_thread

RCOND = 1e-6  # directions of the weighted design with singular value below RCOND x the largest are dropped


@dataclass(frozen=True)
class Solution:
    """`y ~ x[:, idx] @ beta + intercept` in design coordinates, and the whitening of the design it used.

    `whiten_DxR = V diag(lambda^-1/2)` over the R kept eigen-directions of the centred weighted Gram:
    `sqrt(w) * (x - x_mean) @ whiten` is an orthonormal basis of the weighted design's column space.
    """

    idx: slice | np.ndarray  # the design columns used
    beta_DxC: np.ndarray
    intercept_C: np.ndarray
    whiten_DxR: np.ndarray

    @property
    def rank(self) -> int:
        return self.whiten_DxR.shape[1]

    def predict(self, x_NxD: np.ndarray, rows=None) -> np.ndarray:
        """Predictions for the design's rows (or just `rows`), copying only this fit's columns."""
        x = x_NxD[:, self.idx]
        return (x if rows is None else x[rows]) @ self.beta_DxC + self.intercept_C


def single_threaded_eigh(gram_DxD: np.ndarray):
    """`np.linalg.eigh` under `one_blas_thread`: threaded LAPACK eigh stalls badly on a busy 2-core machine."""
    with one_blas_thread():
        return np.linalg.eigh(gram_DxD)


def _whitening(gram_DxD: np.ndarray, rcond: float) -> np.ndarray:
    values, vectors = single_threaded_eigh(gram_DxD)
    keep = values > (rcond**2) * max(values.max(initial=0.0), np.finfo(float).tiny)
    return vectors[:, keep] / np.sqrt(values[keep])


def solve(m: Moments, idx, exclude: int | None = None, rcond: float = RCOND) -> Solution:
    """The weighted affine least-squares fit on columns `idx`, leaving out fold `exclude` if given.

    Minimum-norm on rank-deficient designs (duplicated or constant columns are harmless). Directions of the
    centred weighted design whose singular value is below `rcond` x the largest are dropped: principal-
    component regression, the regulariser for designs with nearly as many columns as prefixes. A fold's fit
    chooses its directions from its own rows, so held-out rows never shape it.
    """
    _, x_mean, y_mean, gram, cross = m.centred(idx, exclude)
    whiten = _whitening(gram, rcond)
    beta = whiten @ (whiten.T @ cross)
    return Solution(idx, beta, y_mean - x_mean @ beta, whiten)


@dataclass(frozen=True)
class AffineFit:
    """`y ~ x @ coef + intercept` on raw columns, fitted by weighted least squares."""

    coef_DxC: np.ndarray
    intercept_C: np.ndarray
    rank: int

    def predict(self, x_NxD) -> np.ndarray:
        return np.asarray(x_NxD, np.float64) @ self.coef_DxC + self.intercept_C


def fit_affine(x_NxD, y_NxC, w_N=None, rcond: float = RCOND) -> AffineFit:
    """Weighted affine least squares of `y` on `x` (weights default to 1), minimum-norm if rank-deficient."""
    x_NxD = np.asarray(x_NxD)
    y = np.asarray(y_NxC, np.float64)
    y = y[:, None] if y.ndim == 1 else y
    w = np.ones(len(x_NxD)) if w_N is None else np.asarray(w_N, np.float64)
    d = design({"x": x_NxD}, ["x"], w)
    sol = solve(moments(d, y, w), d.indices(["x"]), rcond=rcond)
    coef, intercept = d.raw_coefficients(sol.idx, sol.beta_DxC, sol.intercept_C)
    return AffineFit(coef, intercept, sol.rank)
