"""How the Bayes next-token distribution depends on the belief: `P(x | η) = η T[x] w` is linear in η."""

import numpy as np


def prediction_matrix(process) -> np.ndarray:
    """`M_SxV[s, x] = (T[x] w)[s]`: the next-token distribution of a normalised belief η is `η M`."""
    T_VxSxS = np.asarray(process.transition_matrices, np.float64)
    return np.einsum("xst,t->sx", T_VxSxS, np.asarray(process.right_vector, np.float64))


def prediction_determines_belief(process, tol: float = 1e-9) -> bool:
    """True when the next-token distribution is an invertible affine function of the belief (rank M = S).

    `M 1 = w`, so any `d` with `d M = 0` has `d . w = 0`: rank S is exactly injectivity on the beliefs'
    affine hull, and then a linear readout of either target is a linear readout of the other.
    """
    M_SxV = prediction_matrix(process)
    singular = np.linalg.svd(M_SxV, compute_uv=False)
    return M_SxV.shape[0] <= M_SxV.shape[1] and singular[-1] > tol * singular[0]
