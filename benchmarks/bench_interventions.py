"""Activation patching over every residual site with 2,000 base/donor pairs (both modes) on a Mess3 model of the
paper's size: the first call (compiling one forward per site) and warm repeats. Prints one JSON object.

    python -m benchmarks.bench_interventions [--checkpoint-dir RUN/checkpoints]   # trained; else untrained
"""

import argparse
import json
import os
import time

import jax
import numpy as np

from analysis.interventions import default_sites, draw_pairs, patching
from benchmarks.mess3_model import mess3_bench
from benchmarks.timing import median_seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoint-dir", default=None, help="a models run's checkpoints (latest is used)")
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]  # the machine may be shared: report how busy it was
    process, model, kind, tokens, prefixes = mess3_bench(args.checkpoint_dir)
    sites = default_sites(model)
    start = time.perf_counter()
    pairs = draw_pairs(prefixes, args.pairs, np.random.default_rng(0))
    pairs_s = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    result = patching(model, prefixes, pairs, sites)
    first_s, first_cpu = time.perf_counter() - start, time.process_time() - cpu
    warm_s = median_seconds(lambda: patching(model, prefixes, pairs, sites), args.repeats)
    print(
        json.dumps(
            {
                "benchmark": "interventions_patching",
                "process": "mess3(0.05, 0.85)",
                "context": 10,
                "model": kind,
                "tokens_seen": tokens,
                "pairs": len(pairs),
                "sites": len(sites),
                "modes": result["modes"],
                "forwards_per_pair": 2 + len(sites) * len(result["modes"]),
                "draw_pairs_seconds": pairs_s,
                "first_call_seconds": first_s,
                "first_call_cpu_seconds": first_cpu,
                "warm_seconds": warm_s,
                "closed_last": result["closed"]["last"],
                "backend": jax.default_backend(),
                "devices": jax.device_count(),
                "cpus": os.cpu_count(),
                "load_average_before_after": [load_before, os.getloadavg()[0]],
            }
        )
    )


if __name__ == "__main__":
    main()
