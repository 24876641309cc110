"""Analysis timings on a paper-size Mess3 model: the 1000-shuffle null for one site, and the full analysis
(all sites, concatenation, shuffle, CV, untrained control, figures, analysis.json). Prints one JSON object.

    python -m benchmarks.bench_analysis [--checkpoint-dir RUN/checkpoints]   # trained; else untrained
"""

import argparse
import json
import os
import tempfile
import time

import jax

import analysis
from analysis.regression.measure import Settings, measure
from benchmarks.mess3_model import mess3_bench
from benchmarks.timing import median_seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoint-dir", default=None, help="a models run's checkpoints (latest is used)")
    parser.add_argument("--site", default="blocks.3.resid_post")
    parser.add_argument("--shuffles", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]  # the machine may be shared: report how busy it was
    process, model, kind, tokens, prefixes = mess3_bench(args.checkpoint_dir)
    acts = analysis.collect_activations(model, prefixes, (args.site,))
    one_site = {args.site: (args.site,)}
    with_null = Settings(num_shuffles=args.shuffles, cv_folds=0)
    without = Settings(num_shuffles=0, cv_folds=0)
    fit_s = median_seconds(lambda: measure(acts, prefixes, one_site, without), args.repeats)
    fit_null_s = median_seconds(lambda: measure(acts, prefixes, one_site, with_null), args.repeats)
    with tempfile.TemporaryDirectory() as out:
        start, cpu = time.perf_counter(), time.process_time()
        result = analysis.analyze(model, process, out_dir=out, tokens_seen=tokens, num_shuffles=args.shuffles)
        full_s, full_cpu = time.perf_counter() - start, time.process_time() - cpu
    head = result.headline()
    print(
        json.dumps(
            {
                "benchmark": "analysis",
                "process": "mess3(0.05, 0.85)",
                "context": 10,
                "model": kind,
                "tokens_seen": tokens,
                "prefixes": prefixes.num_prefixes,
                "site": args.site,
                "shuffles": args.shuffles,
                "one_site_fit_seconds": fit_s,
                "one_site_fit_and_null_seconds": fit_null_s,
                "one_site_null_seconds": fit_null_s - fit_s,
                "full_analysis_seconds": full_s,
                "full_analysis_cpu_seconds": full_cpu,
                "full_analysis_breakdown": {k: round(v, 3) for k, v in result.seconds.items()},
                "groups": len(result.groups),
                "headline": head,
                "backend": jax.default_backend(),
                "devices": jax.device_count(),
                "cpus": os.cpu_count(),
                "load_average_before_after": [load_before, os.getloadavg()[0]],
            }
        )
    )


if __name__ == "__main__":
    main()
