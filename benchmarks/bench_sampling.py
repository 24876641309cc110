"""Sampling throughput (tokens with posterior beliefs per second). Prints one JSON object."""

import argparse
import json

import jax

import hmm
from benchmarks.timing import median_seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--process", default="mess3")
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--seq-len", type=int, default=11)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    process = hmm.get_process(args.process)
    keys = iter(jax.random.split(jax.random.key(0), args.repeats + 1))
    seconds = median_seconds(lambda: hmm.sample(process, next(keys), args.batch_size, args.seq_len), args.repeats)
    tokens = args.batch_size * args.seq_len
    print(
        json.dumps(
            {
                "benchmark": "sampling",
                "process": args.process,
                "batch_size": args.batch_size,
                "seq_len": args.seq_len,
                "median_seconds": seconds,
                "tokens_per_second": tokens / seconds,
                "backend": jax.default_backend(),
                "devices": jax.device_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
