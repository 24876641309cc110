"""`belieflab sweep CONFIG AXIS ...`: a grid of runs (seeds, learning rates and a markov_pool's pool sizes train
as one vmapped ensemble)."""

import argparse

from experiments.commands.run import add_config_arguments

EXAMPLES = """axes:
  KEY=V1,V2        a list of values, e.g. model.n_layers=2,4
  KEY=A..B         an inclusive integer range, e.g. train.seed=0..4
  shortcuts:       seed=... for train.seed, lr=... (or learning_rate=...) for train.learning_rate,
                   pool_size=... for process.params.num_chains

examples:
  belieflab sweep mess3 seed=0..4
  belieflab sweep mess3 seed=0..2 lr=0.001,0.003 model.n_layers=2,4
  belieflab sweep icl-pool pool_size=1,2,4,8,16,32,64 seed=0..1   (one vmapped ensemble of 14)
"""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="run a grid: key=v1,v2 and seed=0..4 (seeds, learning rates and pool sizes vmapped)",
        description="Run every point of a grid of overrides; points that differ only in seed or "
        "learning rate (and, for a markov_pool process, in its pool: num_chains, seed, alpha) train together "
        "as one vmapped ensemble, each member sampling its own pool. Writes "
        "OUTPUT_DIR/NAME-sweep/ with a run directory per point, runs.csv, summary.csv "
        "(mean ± sd over seeds) and report.html.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_arguments(p, "axes", "+", "KEY=V1,V2|A..B", "grid axes (see below)")


def run(args) -> None:
    from experiments.sweep import sweep

    print(sweep(args.config, args.axes, output_dir=args.output_dir, progress=not args.quiet).summary)
