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


def build_parser() -> argparse.ArgumentParser:
    from experiments.config import shipped_configs

    parser = argparse.ArgumentParser(prog="belieflab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    shipped = ", ".join(shipped_configs())

    r = sub.add_parser("run", help="train, analyse, plot and report one experiment (resumes if interrupted)")
    r.add_argument("config", help=f"a config file or a shipped config ({shipped})")
    r.add_argument("overrides", nargs="*", metavar="KEY.PATH=VALUE", help="e.g. train.num_steps=2000")
    r.add_argument("--output-dir", help="parent of the run directory (default: runs)")
    r.add_argument("--quiet", action="store_true", help="no progress bars")
    r.set_defaults(func=cmd_run)

    for name, text in (("analyze", "redo the analysis, figures and report of runs from their checkpoints"),
                       ("plot", "redraw the figures (and analysis) of runs from their checkpoints")):
        a = sub.add_parser(name, help=text)
        a.add_argument("runs", nargs="+", help="run directories")
        a.set_defaults(func=cmd_analyze)
    rep = sub.add_parser("report", help="rebuild report.html of runs from their files")
    rep.add_argument("runs", nargs="+", help="run directories")
    rep.set_defaults(func=cmd_report)

    sw = sub.add_parser("sweep", help="run a grid: key=v1,v2 and seed=0..4 (seeds and learning rates vmapped)")
    sw.add_argument("config", help=f"a config file or a shipped config ({shipped})")
    sw.add_argument("axes", nargs="+", metavar="KEY=V1,V2|A..B", help="e.g. seed=0..4 train.learning_rate=1e-3,3e-3")
    sw.add_argument("--output-dir", help="parent of the sweep directory (default: runs)")
    sw.add_argument("--quiet", action="store_true", help="no progress bars")
    sw.set_defaults(func=cmd_sweep)
    p = sub.add_parser("process", help="summarise a process and optionally plot its belief geometry")
    p.add_argument("name", help=f"a registered process ({', '.join(hmm.list_processes())}) or a file")
    p.add_argument("--param", action="append", default=[], metavar="K=V", help="process parameter")
    p.add_argument("--max-len", type=int, default=10, help="depth of the mixed-state tree (default 10)")
    p.add_argument("--min-prob", type=float, default=0.0, help="drop prefixes less probable than this")
    p.add_argument("--plot", metavar="FILE", help="write the ground-truth belief figure (PNG)")
    p.set_defaults(func=cmd_process)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (hmm.ProcessError, ValueError, FileNotFoundError) as err:
        print(f"belieflab: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
