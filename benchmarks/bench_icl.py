"""In-context-learning processes: a 3-component Mess3 mixture against one Mess3 (sampling with beliefs, the
mixed-state tree), and the Dirichlet Markov family (sampling, Bayes predictor). Prints one JSON object.

Single and mixture timings alternate over rounds so that load from other processes hits both alike;
each figure is given as the median over rounds of per-round medians, and as the fastest call.
"""

import argparse
import json
import os
import statistics

import jax

import hmm
from benchmarks.timing import wall_seconds

COMPONENTS = ((0.05, 0.85), (0.15, 0.6), (0.1, 0.7))


def alternating(fns: dict, rounds: int, repeats: int) -> tuple[dict, dict]:
    """Seconds per call of each callable, measured in alternation over `rounds`: the median over rounds of
    each round's median, and the fastest call (the least disturbed by other processes)."""
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            times[name].append(wall_seconds(fn, repeats))
    return (
        {name: statistics.median(statistics.median(r) for r in t) for name, t in times.items()},
        {name: min(min(r) for r in t) for name, t in times.items()},
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--seq-len", type=int, default=11)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--vocab-size", type=int, default=8)
    parser.add_argument("--icl-seq-len", type=int, default=128)
    args = parser.parse_args()
    single = hmm.get_process("mess3", x=COMPONENTS[0][0], alpha=COMPONENTS[0][1])
    mix = hmm.mixture([hmm.get_process("mess3", x=x, alpha=a) for x, a in COMPONENTS])
    keys = iter(jax.random.split(jax.random.key(0), 10 * args.rounds * (args.repeats + 1)))
    B, L = args.batch_size, args.seq_len
    sampling, sampling_best = alternating(
        {"single": lambda: hmm.sample(single, next(keys), B, L), "mixture": lambda: hmm.sample(mix, next(keys), B, L)},
        args.rounds,
        args.repeats,
    )
    trees = {name: hmm.mixed_state_presentation(p, args.depth) for name, p in (("single", single), ("mixture", mix))}
    tree_seconds, tree_best = alternating(
        {
            "single": lambda: hmm.mixed_state_presentation(single, args.depth),
            "mixture": lambda: hmm.mixed_state_presentation(mix, args.depth),
        },
        args.rounds,
        max(3, args.repeats // 4),
    )
    per_prefix = {name: tree_seconds[name] / trees[name].num_prefixes for name in trees}

    family = hmm.DirichletMarkov(args.vocab_size, 1.0)
    n_icl = max(B // 16, 1) * 16
    tokens = family.sample(next(keys), n_icl, args.icl_seq_len)
    icl, _ = alternating(
        {
            "dirichlet_sample": lambda: family.sample(next(keys), n_icl, args.icl_seq_len),
            "dirichlet_predictive": lambda: family.predictive(tokens),
        },
        1,
        max(3, args.repeats // 4),
    )
    tokens_per_second = {
        "median": {k: B * L / s for k, s in sampling.items()},
        "fastest": {k: B * L / s for k, s in sampling_best.items()},
    }
    print(
        json.dumps(
            {
                "benchmark": "icl",
                "components": COMPONENTS,
                "batch_size": B,
                "seq_len": L,
                "sampling_tokens_per_second": tokens_per_second,
                "sampling_mixture_over_single_throughput": {
                    "median": sampling["single"] / sampling["mixture"],
                    "fastest": sampling_best["single"] / sampling_best["mixture"],
                },
                "tree_depth": args.depth,
                "tree_prefixes": {k: t.num_prefixes for k, t in trees.items()},
                "tree_seconds": {"median": tree_seconds, "fastest": tree_best},
                "tree_seconds_per_prefix": per_prefix,
                "tree_mixture_over_single_time_per_prefix": {
                    "median": per_prefix["mixture"] / per_prefix["single"],
                    "fastest": tree_best["mixture"] / tree_best["single"],
                },
                "dirichlet": {
                    "vocab_size": args.vocab_size,
                    "batch_size": n_icl,
                    "seq_len": args.icl_seq_len,
                    "sample_tokens_per_second": n_icl * args.icl_seq_len / icl["dirichlet_sample"],
                    "bayes_predictive_tokens_per_second": n_icl * args.icl_seq_len / icl["dirichlet_predictive"],
                },
                "load_average_1_5_15": os.getloadavg(),
                "cpu_count": os.cpu_count(),
                "backend": jax.default_backend(),
                "devices": jax.device_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
