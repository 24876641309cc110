"""What a lens needs from a model: cached residuals per site, row weights, and optional ground truth."""

from dataclasses import dataclass

import numpy as np

from models.config import ConfigError
from models.keys import numpy_rng


class LensInputError(ConfigError):
    """Lens inputs that do not fit together (shapes, sites, weights, probabilities)."""


@dataclass(frozen=True, eq=False)
class LensInputs:
    """Rows of one model's activations, each a (prefix, position) pair.

    `resid`: `{site: [N, D]}` in depth order; the LAST site is the model's final residual, whose readout is
    the model's own output (the reference every lens is compared with). `weights_N`: row weights (any
    non-negative scale; normalised where used). `bayes_NxV`: exact next-token distributions (toys), or None.
    `next_ids_N`: observed next-token ids (real text), or None.
    """

    resid: dict
    weights_N: np.ndarray
    bayes_NxV: np.ndarray | None = None
    next_ids_N: np.ndarray | None = None

    def __post_init__(self):
        if not self.resid:
            raise LensInputError("lens inputs need at least one residual site")
        shapes = {site: np.shape(a) for site, a in self.resid.items()}
        n, d = next(iter(shapes.values()))[0], next(iter(shapes.values()))[-1]
        bad = {s: sh for s, sh in shapes.items() if len(sh) != 2 or sh != (n, d)}
        if bad:
            raise LensInputError(f"every site must be [N, D] = [{n}, {d}]; got {bad}")
        w = np.asarray(self.weights_N, np.float64)
        if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise LensInputError(f"weights_N must be {n} finite non-negative numbers with a positive sum")
        if self.bayes_NxV is not None:
            b = np.asarray(self.bayes_NxV)
            if b.ndim != 2 or b.shape[0] != n or not np.allclose(b.sum(-1), 1.0, atol=1e-4):
                raise LensInputError(f"bayes_NxV must be [{n}, V] rows of probabilities summing to 1")
        if self.next_ids_N is not None and np.shape(self.next_ids_N) != (n,):
            raise LensInputError(f"next_ids_N must be [{n}] token ids, got shape {np.shape(self.next_ids_N)}")

    @property
    def sites(self) -> tuple[str, ...]:
        return tuple(self.resid)

    @property
    def final_site(self) -> str:
        return self.sites[-1]

    @property
    def num_rows(self) -> int:
        return len(self.weights_N)

    @property
    def dim(self) -> int:
        return np.shape(next(iter(self.resid.values())))[-1]

    def check_sites(self, sites) -> tuple[str, ...]:
        """`sites` as a tuple, or a one-line error naming the unknown ones and the valid ones."""
        sites = tuple(sites)
        unknown = [s for s in sites if s not in self.resid]
        if unknown:
            raise LensInputError(f"unknown lens site(s) {unknown}: the cached sites are {list(self.resid)}")
        return sites


def split_rows(num_rows: int, heldout_fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A random split of row indices into (train, held-out), both sorted; held-out has at least one row."""
    if not 0.0 < heldout_fraction < 1.0:
        raise LensInputError(f"heldout_fraction={heldout_fraction} is invalid: must be in (0, 1)")
    if num_rows < 2:
        raise LensInputError(f"need at least 2 rows to split into training and held-out, got {num_rows}")
    order = numpy_rng(seed, "lens_rows").permutation(num_rows)
    n_test = min(num_rows - 1, max(1, int(round(heldout_fraction * num_rows))))
    return np.sort(order[n_test:]), np.sort(order[:n_test])
