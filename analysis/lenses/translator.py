"""Affine translators `h -> h + h A + b` (zero `A`, `b` is the identity, i.e. the logit lens)."""

import jax.numpy as jnp
import numpy as np

from models.arrays import lift


def identity(num: int, dim: int) -> dict:
    """`num` stacked identity translators: `{"A": [num, D, D], "b": [num, D]}` of zeros."""
    return {"A": jnp.zeros((num, dim, dim), jnp.float32), "b": jnp.zeros((num, dim), jnp.float32)}


def translate(params: dict, h_NxD):
    """`h + h A + b` for one translator (`A: [D, D]`, `b: [D]`)."""
    return h_NxD + h_NxD @ params["A"] + lift(params["b"], h_NxD)


def take(params: dict, index) -> dict:
    """Translators `index` (an int or an index array) of a stack."""
    return {k: v[index] for k, v in params.items()}


def to_numpy(params: dict) -> dict:
    return {k: np.asarray(v) for k, v in params.items()}
