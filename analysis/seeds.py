"""One seed, split by purpose (DESIGN.md): the same seed and settings give the same numbers."""

import jax
import numpy as np

PURPOSES = {"shuffle": 1, "cv": 2, "untrained": 3, "samples": 4, "cv_shuffle": 5}


def numpy_rng(seed: int, purpose: str) -> np.random.Generator:
    """A NumPy generator for one purpose, independent of the others."""
    return np.random.default_rng([int(seed), PURPOSES[purpose]])


def jax_key(seed: int, purpose: str):
    """A JAX key for one purpose, independent of the others."""
    return jax.random.fold_in(jax.random.key(int(seed)), PURPOSES[purpose])
