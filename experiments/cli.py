"""The `belieflab` command line: a thin layer over importable functions."""

import argparse
import sys
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="belieflab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
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
    except hmm.ProcessError as err:
        print(f"belieflab: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
