"""The `belieflab` command line: a thin layer over importable functions."""

import argparse
import sys
from pathlib import Path

import yaml

import hmm


def parse_params(pairs: list[str]) -> dict:
    """`["x=0.1", "alpha=0.9"]` -> `{"x": 0.1, "alpha": 0.9}`; values parsed as YAML scalars."""
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise hmm.ProcessError(f"--param expects key=value, got {pair!r}")
        params[key.strip()] = yaml.safe_load(value)
    return params


def cmd_process(args) -> None:
    from experiments.config import ProcessConfig, resolve_process
    from experiments.process_summary import describe_process

    process = resolve_process(ProcessConfig(args.name, parse_params(args.param)))
    tree = hmm.mixed_state_presentation(process, args.max_len, min_prob=args.min_prob)
    print(describe_process(process, args.max_len, tree))
    if args.plot:
        import analysis

        analysis.plot_ground_truth(tree, args.plot)
        print(f"  figure: {args.plot}")


def cmd_run(args) -> None:
    from experiments.config import load_config
    from experiments.runner import run

    config = load_config(args.config, _with_output(args.overrides, args.output_dir))
    print(f"run directory: {config.run_dir}")
    print(run(config, progress=not args.quiet).summary)


def _with_output(overrides: list[str], output_dir: str | None) -> list[str]:
    return list(overrides) + ([f"output_dir={output_dir}"] if output_dir else [])


def cmd_analyze(args) -> None:
    from experiments.runner import reanalyze

    for run_dir in args.runs:
        print(reanalyze(run_dir).summary)


def cmd_report(args) -> None:
    from experiments.report import load_json
    from experiments.runner import load_run_config, report_stage

    for run_dir in args.runs:
        report = load_json(Path(run_dir) / "analysis.json")
        print(report_stage(load_run_config(run_dir), Path(run_dir), report))


def cmd_sweep(args) -> None:
    from experiments.sweep import sweep

    print(sweep(args.config, args.axes, output_dir=args.output_dir, progress=not args.quiet).summary)


def _config_command(sub, name: str, text: str, func, positional: tuple, shipped: str) -> None:
    """A subcommand that takes a config, a list of KEY=VALUE words, --output-dir and --quiet."""
    c = sub.add_parser(name, help=text)
    c.add_argument("config", help=f"a config file or a shipped config ({shipped})")
    c.add_argument(positional[0], nargs=positional[1], metavar=positional[2], help=positional[3])
    c.add_argument("--output-dir", help="parent of the run or sweep directory (default: runs)")
    c.add_argument("--quiet", action="store_true", help="no progress bars")
    c.set_defaults(func=func)


def _runs_command(sub, name: str, text: str, func) -> None:
    c = sub.add_parser(name, help=text)
    c.add_argument("runs", nargs="+", help="run directories")
    c.set_defaults(func=func)


def build_parser() -> argparse.ArgumentParser:
    from experiments.config import shipped_configs

    parser = argparse.ArgumentParser(prog="belieflab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    shipped = ", ".join(shipped_configs())
    _config_command(sub, "run", "train, analyse, plot and report one experiment (resumes if interrupted)",
                    cmd_run, ("overrides", "*", "KEY.PATH=VALUE", "e.g. train.num_steps=2000"), shipped)
    _runs_command(sub, "analyze", "redo the analysis, figures and report of runs from their checkpoints",
                  cmd_analyze)
    _runs_command(sub, "plot", "redraw the figures (recomputing the analysis) of runs from their checkpoints",
                  cmd_analyze)
    _runs_command(sub, "report", "rebuild report.html of runs from their files", cmd_report)
    _config_command(sub, "sweep", "run a grid: key=v1,v2 and seed=0..4 (seeds and learning rates vmapped)",
                    cmd_sweep, ("axes", "+", "KEY=V1,V2|A..B", "e.g. seed=0..4 train.learning_rate=1e-3,3e-3"),
                    shipped)
    p = sub.add_parser("process", help="summarise a process and optionally plot its belief geometry")
    p.add_argument("name", help=f"a registered process ({', '.join(hmm.list_processes())}) or a file")
    p.add_argument("--param", action="append", default=[], metavar="K=V", help="process parameter")
    p.add_argument("--max-len", type=int, default=10, help="depth of the mixed-state tree (default 10)")
    p.add_argument("--min-prob", type=float, default=0.0, help="drop prefixes less probable than this")
    p.add_argument("--plot", metavar="FILE", help="write the ground-truth belief figure (PNG)")
    p.set_defaults(func=cmd_process)
    __import__("experiments.lens_llm_command", fromlist=["add_parser"]).add_parser(sub)
    __import__("experiments.compare_command", fromlist=["add_parser"]).add_parser(sub)
    return parser


def _user_errors() -> tuple:
    """Errors caused by input (configs, processes, run directories): printed as one line, exit code 2."""
    from models.checkpoint import CheckpointError
    from models.config import ConfigError
    from models.loop import TrainingDiverged
    from models.sharding import ShardingError

    return hmm.ProcessError, ConfigError, CheckpointError, ShardingError, TrainingDiverged, FileNotFoundError


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except _user_errors() as err:
        print(f"belieflab: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
