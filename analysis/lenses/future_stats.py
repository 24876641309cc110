"""Streamed least squares for the future lens on real text (Pal et al. 2023, "linear model approximation"):
from the residual at site s, position t, predict the model's final residual at position t + N (N = 0..H),
whose readout is the model's own prediction of the token at t + 1 + N.

A step adds the sufficient statistics `X^T X` and `X^T Y` of its rows; `solve` gives the ridge solution.
Rows are window positions `t <= L - 2 - H`, so every horizon uses the same rows and the real token at
`t + 1 + N` lies inside the window.
"""

import jax.numpy as jnp
import numpy as np


def with_bias(x_NxD):
    """`[x, 1]`: the affine map as one matrix."""
    return jnp.concatenate([x_NxD, jnp.ones((*x_NxD.shape[:-1], 1), x_NxD.dtype)], axis=-1)


def future_rows(a_xBxLxD, max_horizon: int, shift: int = 0):
    """Rows `t + shift` for `t = 0..L - 2 - max_horizon` of each window, flattened to `[..., B * T, D]`."""
    *lead, B, L, D = a_xBxLxD.shape
    T = L - 1 - max_horizon
    return a_xBxLxD[..., shift : shift + T, :].reshape(*lead, B * T, D)


def step_statistics(h_SxBxLxD, final_BxLxD, max_horizon: int) -> dict:
    """`{"xtx": [S, D+1, D+1], "xty": [S, H+1, D+1, D], "rows": count}` for one batch of windows."""
    x_SxRxD1 = with_bias(future_rows(h_SxBxLxD, max_horizon))
    y_HxRxD = jnp.stack([future_rows(final_BxLxD, max_horizon, n) for n in range(max_horizon + 1)])
    return {
        "xtx": jnp.einsum("srd,sre->sde", x_SxRxD1, x_SxRxD1),
        "xty": jnp.einsum("srd,hre->shde", x_SxRxD1, y_HxRxD),
        "rows": jnp.float32(x_SxRxD1.shape[1]),
    }


def solve(stats: dict, ridge: float = 1e-4) -> np.ndarray:
    """Ridge solution `W [S, H+1, D+1, D]` (float64): `(X^T X + ridge * mean diag * I)^-1 X^T Y` per site."""
    xtx = np.asarray(stats["xtx"], np.float64)
    scale = ridge * np.trace(xtx, axis1=1, axis2=2)[:, None, None] / xtx.shape[-1]
    return np.linalg.solve((xtx + scale * np.eye(xtx.shape[-1]))[:, None], np.asarray(stats["xty"], np.float64))
