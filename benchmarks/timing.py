"""Shared timing helper for the benchmark scripts: warm once, then the median of repeats."""

import statistics
import time

import jax


def median_seconds(fn, repeats: int = 20) -> float:
    """Median wall time of `fn()` after one warm-up call, blocking on JAX results."""
    jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return statistics.median(times)
