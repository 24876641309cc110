"""The `belieflab` command line: a thin layer over importable functions.

Each subcommand is a module `experiments/commands/<thing>.py` with `add_parser(sub)` and `run(args)`; it
imports JAX-heavy code inside `run`, so parsing and `--help` stay instant. Register one in COMMANDS.
"""

import argparse
import importlib
import sys

COMMANDS = [
    "experiments.commands.run",
    "experiments.commands.analyze",
    "experiments.commands.report",
    "experiments.commands.sweep",
    "experiments.commands.process",
    "experiments.commands.intervene",
    "experiments.commands.ladder",
    "experiments.commands.lens",
    "experiments.commands.lens_llm",
    "experiments.commands.function_vectors",
    "experiments.commands.probe_llm",
    "experiments.commands.compare",
    "experiments.commands.icl_diversity",
]

EXAMPLES = """common commands:
  belieflab process mess3 --max-len 10 --plot mess3.png   a process: entropies, tree, optimal loss, fractal
  belieflab run mess3                                      train + analyse + figures + report.html (runs/mess3)
  belieflab run rrxor train.num_steps=2000 model.n_layers=2   any config field can be overridden
  belieflab run my-experiment.yaml                         a YAML file of overrides (base: mess3)
  belieflab analyze runs/mess3                             redo analysis, figures and report from checkpoints
  belieflab report runs/mess3                              rebuild report.html from the run's files
  belieflab sweep mess3 seed=0..4 lr=0.001,0.003           a grid (seeds and learning rates vmapped)

`belieflab COMMAND --help` describes each command.
"""


def build_parser() -> argparse.ArgumentParser:
    """The parser of every registered subcommand; each subcommand's `run` is its `func`."""
    parser = argparse.ArgumentParser(
        prog="belieflab",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Hidden-Markov processes, small transformers trained on them, and the belief state in "
        "their residual stream (with shuffle nulls, cross-validation and an untrained control).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(name)
        before = set(sub.choices)
        module.add_parser(sub)
        for command in set(sub.choices) - before:
            sub.choices[command].set_defaults(func=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except Exception as err:
        from hmm.errors import LabError

        if not isinstance(err, LabError):
            raise
        print(f"belieflab: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
