"""All randomness of a run from one seed, split by purpose; per-step data keys by `fold_in`."""

from typing import NamedTuple

import jax
import numpy as np

PURPOSES = ("init", "data", "eval")


class RunKeys(NamedTuple):
    """Keys for parameter init, training data (`fold_in(data, step)`) and the sampled eval set."""

    init: jax.Array
    data: jax.Array
    eval: jax.Array


def run_keys(seed: int) -> RunKeys:
    """The run's keys: `split(key(seed), 3)` in the order init, data, eval."""
    return RunKeys(*jax.random.split(jax.random.key(seed), len(PURPOSES)))


def key_record(keys: RunKeys) -> dict:
    """Raw key data as plain ints (what a checkpoint records)."""
    return {name: np.asarray(jax.random.key_data(k)).tolist() for name, k in zip(PURPOSES, keys)}
