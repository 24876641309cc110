"""Lens timings on a paper-size Mess3 model: tuned lenses for every residual site (first call with compilation,
then warm), and the whole lens stage of a run (all lenses, untrained control). Prints one JSON object.

    python -m benchmarks.bench_lenses [--checkpoint-dir RUN/checkpoints]   # trained; else untrained
"""

import argparse
import json
import os
import time

from analysis.lenses import Readout, Recipe, fit_tuned_lens, split_rows
from analysis.lenses.toy import lens_sites, toy_inputs, toy_lenses
from benchmarks.mess3_model import mess3_bench


def _timed(fn):
    start, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - start, time.process_time() - cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoint-dir", default=None, help="a mess3 run's checkpoints (latest is used)")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    process, model, kind, tokens, prefixes = mess3_bench(args.checkpoint_dir)
    sites = lens_sites(model.config)
    inputs, acts_s, _ = _timed(lambda: toy_inputs(model, prefixes, sites))
    train, _ = split_rows(inputs.num_rows, 0.2)
    readout, recipe = Readout.from_model(model), Recipe()
    _, first_s, first_cpu = _timed(lambda: fit_tuned_lens(readout, inputs, train, recipe=recipe))
    _, warm_s, warm_cpu = _timed(lambda: fit_tuned_lens(readout, inputs, train, recipe=recipe))
    section, stage_s, stage_cpu = _timed(lambda: toy_lenses(model, process))
    print(
        json.dumps(
            {
                "benchmark": "lenses",
                "process": "mess3(0.05, 0.85)",
                "model": kind,
                "prefixes": prefixes.num_prefixes,
                "sites": len(sites),
                "steps": recipe.steps,
                "batch_size": recipe.batch_size,
                "activations_seconds": acts_s,
                "tuned_all_sites_first_call_seconds": first_s,
                "tuned_all_sites_first_call_cpu_seconds": first_cpu,
                "tuned_all_sites_warm_seconds": warm_s,
                "tuned_all_sites_warm_cpu_seconds": warm_cpu,
                "lens_stage_seconds": stage_s,
                "lens_stage_cpu_seconds": stage_cpu,
                "lens_stage_parts_seconds": section["seconds"],
                "cpu_count": os.cpu_count(),
                "load_average_before": load_before,
                "load_average_after": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
