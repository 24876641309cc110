"""Training throughput (and optionally time-to-target) of models/; prints one JSON object.

    python -m benchmarks.bench_training                 # paper Mess3 model, batch 256; 1 vs 16 seeds
    python -m benchmarks.bench_training --converge      # also: default optimiser to relative loss 1.003

Throughput is steady state: one warm-up call compiles, then `--calls` calls of `--steps-per-call`
steps are timed (the same compiled step `models.train` uses). Tokens are predicted positions:
steps x batch x n_ctx (x members for an ensemble).
"""

import argparse
import json
import os
import platform
import time

import jax
import numpy as np

import hmm
import models
from models.program import Members, Program


def throughput(process, mc, tc, members=None, calls=5) -> dict:
    """Tokens per second of the compiled k-step call, after a warm-up call that compiles it."""
    program = Program(process, mc, tc, members=members)
    state = program.init()
    t0 = time.perf_counter()
    state, _ = program.steps(state, tc.steps_per_call)
    compile_s = time.perf_counter() - t0
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        state, _ = program.steps(state, tc.steps_per_call)
        times.append(time.perf_counter() - t0)
    E = len(members) if members else 1
    tokens = tc.steps_per_call * tc.batch_size * mc.n_ctx * E
    return {
        "tokens_per_s": tokens / float(np.median(times)),
        "best_tokens_per_s": tokens / min(times),
        "first_call_s": compile_s,
        "members": E,
        "batch_size": tc.batch_size,
    }


def converge(process, target: float, budget_s: float) -> dict:
    """Train with the default configs; wall time until the exact relative loss first reaches `target`."""
    mc, tc = models.ModelConfig(), models.TrainConfig()
    t0, reached = time.perf_counter(), {}

    def on_eval(step, metrics):
        rel = metrics["eval/relative_loss"]
        if rel <= target and "step" not in reached:
            reached.update(step=step, wall_s=time.perf_counter() - t0, tokens=metrics["tokens"])

    result = models.train(process, mc, tc, on_eval=on_eval, progress=False)
    final = result.final_metrics
    return {
        "train_config": tc.to_dict(),
        "model_config": result.model_config.to_dict(),
        "target": target,
        "reached": reached or None,
        "final_relative_loss": final["eval/relative_loss"],
        "final_kl": final["eval/kl"],
        "wall_s": time.perf_counter() - t0,
        "budget_s": budget_s,
        "within_budget": bool(reached) and reached["wall_s"] <= budget_s,
        "curve": [(m["step"], m["eval/relative_loss"]) for m in result.metrics],
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--ensemble-batch-size", type=int, default=64, help="per-member batch for 1 vs N seeds")
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--steps-per-call", type=int, default=100)
    ap.add_argument("--calls", type=int, default=5)
    ap.add_argument("--converge", action="store_true", help="also train to relative loss --target")
    ap.add_argument("--target", type=float, default=1.003)
    ap.add_argument("--budget-s", type=float, default=600.0)
    args = ap.parse_args(argv)

    process = hmm.get_process("mess3", x=0.05, alpha=0.85)
    mc = models.ModelConfig().for_vocab(process.vocab_size)
    base = models.TrainConfig(steps_per_call=args.steps_per_call)
    out = {
        "benchmark": "models.training",
        "process": "mess3(x=0.05, alpha=0.85)",
        "model": mc.to_dict(),
        "devices": [str(d) for d in jax.devices()],
        "cpu_count": os.cpu_count(),
        "load_average_at_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "jax": jax.__version__,
        "python": platform.python_version(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
    }
    out["single"] = throughput(process, mc, base.replace(batch_size=args.batch_size), calls=args.calls)
    tc_e = base.replace(batch_size=args.ensemble_batch_size)
    one = throughput(process, mc, tc_e, calls=args.calls)
    many = throughput(
        process, mc, tc_e, Members(tuple(range(args.seeds)), (tc_e.learning_rate,) * args.seeds), calls=args.calls
    )
    out["ensemble"] = {"one_seed": one, "vmapped": many, "speedup": many["tokens_per_s"] / one["tokens_per_s"]}
    if args.converge:
        out["converge"] = converge(process, args.target, args.budget_s)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
