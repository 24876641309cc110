"""Wall time of a pool-size sweep trained as one vmapped ensemble against the same points one after another;
prints one JSON object (and writes it to --out).

    python -m benchmarks.bench_pool_sweep --out pool.json      # icl-pool, M = 2..64, 200 steps

Training only (a sweep's analysis is the same per-point work either way): `train_ensemble(processes=...)`
against `train(process_M)` for each M, fresh compiles both ways, as a sweep pays them.
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

import models
from experiments.config.experiment import load_config, resolve_process
from experiments.sweep import point_config


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def training_only(base, pool_sizes) -> dict:
    configs = [point_config(base, {"process.params.num_chains": m}, Path(".")) for m in pool_sizes]
    processes = [resolve_process(c.process) for c in configs]
    tc = base.train.replace(eval_every=base.train.num_steps)
    vmapped_s, ens = timed(
        lambda: models.train_ensemble(
            None, base.model, tc, seeds=[tc.seed] * len(processes), processes=processes, progress=False
        )
    )
    solo_s = []
    for process in processes:
        solo_s.append(timed(lambda p=process: models.train(p, base.model, tc, progress=False))[0])
    return {
        "vmapped_s": vmapped_s,
        "one_after_another_s": sum(solo_s),
        "per_point_s": dict(zip(map(str, pool_sizes), solo_s)),
        "speedup": sum(solo_s) / vmapped_s,
        "final_eval_relative_loss": {
            str(m): ens.metrics[i][-1]["eval/relative_loss"] for i, m in enumerate(pool_sizes)
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="icl-pool")
    parser.add_argument("--pool-sizes", default="2,4,8,16,32,64")
    parser.add_argument("--num-steps", type=int, default=200)
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args()
    pool_sizes = [int(m) for m in args.pool_sizes.split(",")]
    overrides = [f"train.num_steps={args.num_steps}"]
    base = load_config(args.config, overrides)
    result = {
        "config": args.config,
        "pool_sizes": pool_sizes,
        "num_steps": args.num_steps,
        "batch_size": base.train.batch_size,
        "load_average_before": load_average(),
        "cpus": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "training_only": training_only(base, pool_sizes),
    }
    result["load_average_after"] = load_average()
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
