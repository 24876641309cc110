"""The regression design (site blocks side by side, float64) and its weighted moments summed per fold.

Everything a weighted affine fit needs is in the moments, so a fit that leaves out one fold is the pooled
moments minus that fold's: k-fold cross-validation costs one pass over the data, like a single fit.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Design:
    """Site blocks side by side: `x = (acts - mean) / scale`, the weighted mean removed per column and each
    site divided by one scalar (its weighted RMS), so concatenated sites weigh alike without inflating any
    near-constant column."""

    x_NxD: np.ndarray  # float64
    mean_D: np.ndarray
    scale_D: np.ndarray
    columns: dict  # site -> slice of columns

    def indices(self, sites):
        """Columns of the given sites, in order: a slice when they are adjacent, else an index array."""
        idx = np.concatenate([np.arange(self.x_NxD.shape[1])[self.columns[s]] for s in sites])
        if len(idx) and np.array_equal(idx, np.arange(idx[0], idx[0] + len(idx))):
            return slice(int(idx[0]), int(idx[0] + len(idx)))
        return idx

    def raw_coefficients(self, idx, beta_DxC, intercept_C):
        """The same affine map on the raw activation columns `idx`: `acts @ coef + intercept`."""
        coef = beta_DxC / self.scale_D[idx, None]
        return coef, intercept_C - self.mean_D[idx] @ coef


def design(acts: dict, sites, w_N: np.ndarray, rows=None) -> Design:
    """Build the design for `sites` (in that order) from `{site: acts [N, D_site]}` and weights `w_N`
    (given for the design's rows: `rows` reorders the activations' rows, e.g. to make folds contiguous).

    The caller's activations are copied (as float64), never modified.
    """
    w = np.asarray(w_N, np.float64) / np.sum(w_N)
    widths = [np.shape(acts[site])[1] for site in sites]
    starts = np.concatenate([[0], np.cumsum(widths)])
    x = np.empty((len(w), starts[-1]))
    columns = {site: slice(int(a), int(b)) for site, a, b in zip(sites, starts[:-1], starts[1:])}
    mean, scale = np.empty(starts[-1]), np.empty(starts[-1])
    for site, cols in columns.items():
        block = np.asarray(acts[site])
        block = (block if rows is None else np.take(block, rows, axis=0)).astype(np.float64)
        mean[cols] = w @ block
        block -= mean[cols]
        rms = np.sqrt(np.einsum("n,nd,nd->", w, block, block) / block.shape[1])
        scale[cols] = rms if rms > 0 else 1.0
        np.multiply(block, 1.0 / scale[cols], out=x[:, cols])
    return Design(x, mean, scale, columns)


@dataclass(frozen=True)
class Moments:
    """Per fold f: mass `W[f] = sum w`, `xsum[f] = sum w x`, `ysum[f] = sum w y`, `gram[f] = sum w x x^T`,
    `cross[f] = sum w x y^T` (sums over the fold's rows). Gram blocks between different sites are zero
    unless the moments were built with `full=True`."""

    mass_F: np.ndarray
    xsum_FxD: np.ndarray
    ysum_FxC: np.ndarray
    gram_FxDxD: np.ndarray
    cross_FxDxC: np.ndarray

    def centred(self, idx, exclude: int | None = None):
        """Pooled over all folds but `exclude`, restricted to columns `idx`, centred at the weighted means:
        `(mass, x_mean, y_mean, gram_c, cross_c)`."""
        keep = np.ones(len(self.mass_F), bool)
        if exclude is not None:
            keep[exclude] = False
        mass = self.mass_F[keep].sum()
        x_mean = self.xsum_FxD[keep][:, idx].sum(0) / mass
        y_mean = self.ysum_FxC[keep].sum(0) / mass
        gram = self.gram_FxDxD[keep][:, idx][:, :, idx].sum(0) - mass * np.outer(x_mean, x_mean)
        cross = self.cross_FxDxC[keep][:, idx].sum(0) - mass * np.outer(x_mean, y_mean)
        return mass, x_mean, y_mean, gram, cross


def moments(d: Design, y_NxC: np.ndarray, w_N: np.ndarray, fold_starts=None, full: bool = True) -> Moments:
    """Weighted moments of `d` and targets `y_NxC` per fold; fold f is rows `fold_starts[f]:fold_starts[f+1]`
    (None: one fold of all rows).

    `full=False` computes only the Gram blocks within each site (enough when no concatenation is fitted).
    """
    D, C = d.x_NxD.shape[1], y_NxC.shape[1]
    fold_starts = [0, len(w_N)] if fold_starts is None else fold_starts
    num_folds = len(fold_starts) - 1
    out = dict(
        mass_F=np.zeros(num_folds),
        xsum_FxD=np.zeros((num_folds, D)),
        ysum_FxC=np.zeros((num_folds, C)),
        gram_FxDxD=np.zeros((num_folds, D, D)),
        cross_FxDxC=np.zeros((num_folds, D, C)),
    )
    spans = [slice(0, D)] if full else list(d.columns.values())
    for f in range(num_folds):
        rows = slice(int(fold_starts[f]), int(fold_starts[f + 1]))
        w, y = w_N[rows], y_NxC[rows]
        sx = d.x_NxD[rows] * np.sqrt(w)[:, None]  # sqrt-weighted rows: the Gram is one symmetric product
        out["mass_F"][f] = w.sum()
        out["xsum_FxD"][f] = np.sqrt(w) @ sx
        out["ysum_FxC"][f] = w @ y
        out["cross_FxDxC"][f] = sx.T @ (np.sqrt(w)[:, None] * y)
        for span in spans:
            out["gram_FxDxD"][f, span, span] = sx[:, span].T @ sx[:, span]
    return Moments(**out)
