"""Belief geometry for figures: simplex coordinates, weighted PCA, colours, and distinct belief classes."""

from dataclasses import dataclass

import numpy as np

SQRT3_2 = np.sqrt(3.0) / 2.0
MAX_CATEGORIES = 64  # colour by distinct belief state when there are at most this many
QUALITATIVE_MAPS = ("tab20", "tab20b", "tab20c")


def simplex_xy(p_Nx3: np.ndarray) -> np.ndarray:
    """2-simplex coordinates `(p1 + p2/2, sqrt(3)/2 p2)`: vertices e0 -> (0,0), e1 -> (1,0), e2 -> (1/2, sqrt(3)/2).

    The map is affine, so points off the simplex (regressed beliefs) land in the same plane.
    """
    p_Nx3 = np.asarray(p_Nx3, np.float64)
    return np.stack([p_Nx3[:, 1] + 0.5 * p_Nx3[:, 2], SQRT3_2 * p_Nx3[:, 2]], axis=1)


@dataclass(frozen=True)
class Projection:
    """An affine map from belief coordinates to figure coordinates (2 or 3 dims)."""

    kind: str  # "simplex" or "pca"
    mean_S: np.ndarray
    basis_SxK: np.ndarray
    explained: np.ndarray | None = None  # PCA: fraction of weighted variance per component

    @property
    def dims(self) -> int:
        return self.basis_SxK.shape[1]

    def __call__(self, y_NxS: np.ndarray) -> np.ndarray:
        if self.kind == "simplex":
            return simplex_xy(y_NxS)
        return (np.asarray(y_NxS, np.float64) - self.mean_S) @ self.basis_SxK


def weighted_pca(y_NxS: np.ndarray, w_N: np.ndarray | None = None, dims: int = 2) -> Projection:
    """Principal axes of the weighted belief cloud; fewer than `dims` axes if the cloud is flatter."""
    y_NxS = np.asarray(y_NxS, np.float64)
    w_N = np.ones(len(y_NxS)) if w_N is None else np.asarray(w_N, np.float64)
    mean_S = w_N @ y_NxS / w_N.sum()
    centred = y_NxS - mean_S
    cov_SxS = (centred * w_N[:, None]).T @ centred / w_N.sum()
    values, vectors = np.linalg.eigh(cov_SxS)
    order = np.argsort(values)[::-1][:dims]
    total = max(values.sum(), np.finfo(float).tiny)
    return Projection("pca", mean_S, vectors[:, order], np.clip(values[order], 0, None) / total)


THIRD_AXIS_SHARE = 0.05  # automatic 3-D PCA when the third axis carries at least this share of variance


def belief_projection(y_NxS: np.ndarray, w_N: np.ndarray | None, simplex: bool, dims: int | None = None) -> Projection:
    """The simplex for 3-state HMM beliefs, else weighted PCA of the beliefs to `dims` (None: 2 or 3) dimensions."""
    if simplex and y_NxS.shape[1] == 3 and dims in (None, 2):
        return Projection("simplex", np.zeros(3), np.eye(3)[:, :2])
    if dims is None:
        pca = weighted_pca(y_NxS, w_N, 3)
        dims = 3 if pca.dims == 3 and pca.explained[2] >= THIRD_AXIS_SHARE else 2
    return weighted_pca(y_NxS, w_N, dims)


def _unit_range(z_NxK: np.ndarray) -> np.ndarray:
    low, high = z_NxK.min(axis=0), z_NxK.max(axis=0)
    return (z_NxK - low) / np.where(high > low, high - low, 1.0)


def belief_colours(y_NxS: np.ndarray, simplex: bool) -> np.ndarray:
    """RGB per point: the belief itself for 3-state HMMs, else its first three principal coordinates rescaled."""
    if simplex and y_NxS.shape[1] == 3:
        return np.clip(np.asarray(y_NxS, np.float64), 0.0, 1.0)
    z = _unit_range(weighted_pca(y_NxS, None, dims=3)(y_NxS))
    return np.concatenate([z, np.full((len(z), 3 - z.shape[1]), 0.5)], axis=1)


def categorical_colours(ids_N: np.ndarray) -> np.ndarray:
    """A distinct qualitative colour per class id (up to 60 before colours repeat)."""
    from matplotlib import colormaps

    palette = np.concatenate([colormaps[name].colors for name in QUALITATIVE_MAPS])
    return palette[np.asarray(ids_N) % len(palette), :3]


def class_centres(points_NxK: np.ndarray, ids_N: np.ndarray, w_N: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted centre of mass of the points of each class present: `(ids [M], centres [M, K])`."""
    present, inverse = np.unique(ids_N, return_inverse=True)
    mass = np.bincount(inverse, weights=w_N, minlength=len(present))
    sums = np.stack([np.bincount(inverse, weights=w_N * col, minlength=len(present)) for col in points_NxK.T], 1)
    return present, sums / np.where(mass > 0, mass, 1.0)[:, None]
