"""The one seeding scheme: all randomness of a run from its seed, split by purpose (docs/design.md).

Training: `split(key(seed), 3)` gives the init, data and eval keys; per-step data keys are `fold_in(data, step)`.
Everything after training draws from `numpy_rng(seed, purpose, *index)` or `jax_key(seed, purpose)`, one stream
per named purpose, so adding a stage never shifts another stage's numbers.
"""

from typing import NamedTuple

import jax
import numpy as np

PURPOSES = ("init", "data", "eval")

# Analysis purposes and their stream ids (ids of different stages may coincide: a stream is the whole
# sequence [seed, id, *index], and stages that share an id use different index lengths).
ANALYSIS_PURPOSES = {
    "shuffle": 1,
    "cv": 2,
    "untrained": 3,
    "samples": 4,
    "cv_shuffle": 5,
    "lens_rows": 10,
    "lens_example": 30,
    **{f"lens_batches_{stream}": 20 + stream for stream in range(4)},  # tuned, shared, -, future
    "ladder_folds": 11,
    "ladder_pairs": 12,
    "intervention_pairs": 11,
    "intervention_carry_pairs": 12,
    "intervention_steering": 13,
    "prior_shift_sequences": 14,
    "prior_shift_random": 15,
    "lens_windows": 40,
    "lens_samples": 41,
    "fv_words": 50,
    "fv_prompts": 51,
    "fv_random": 52,  # lens-llm, function-vectors
    "llm_sequences": 40,
    "llm_folds": 41,
    "llm_permuted_weights": 42,
    "llm_steering": 43,  # probe-llm (never in one run with lens-llm)
    "icl_samples": 40,
    "icl_pool": 41,
    "icl_prior": 42,  # the icl stage and icl-diversity of toy runs
}


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


def numpy_rng(seed: int, purpose: str, *index: int) -> np.random.Generator:
    """A NumPy generator for one analysis purpose (and optional sub-stream `index`), independent of the others."""
    return np.random.default_rng([int(seed), ANALYSIS_PURPOSES[purpose], *(int(i) for i in index)])


def jax_key(seed: int, purpose: str):
    """A JAX key for one analysis purpose, independent of the others."""
    return jax.random.fold_in(jax.random.key(int(seed)), ANALYSIS_PURPOSES[purpose])
