"""Shared timing helpers for the benchmark scripts: warm once, then the median (or all) of repeats."""

import statistics
import time

import jax


def wall_seconds(fn, repeats: int = 20) -> list[float]:
    """Wall time of each of `repeats` calls of `fn()` after one warm-up call, blocking on JAX results."""
    jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return times


def median_seconds(fn, repeats: int = 20) -> float:
    """Median wall time of `fn()` after one warm-up call, blocking on JAX results."""
    return statistics.median(wall_seconds(fn, repeats))
