"""`belieflab ladder RUN...`: re-analyse runs or sweep members with the ladder; mean ± sd over them."""

from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("ladder", help="re-analyse runs or sweep members (ladder included) and summarise over seeds")
    p.add_argument("runs", nargs="+", help="run directories, e.g. runs/mess3-sweep/seed=*")
    p.add_argument("--step", type=int, default=None, help="checkpoint step (default: the last)")
    p.add_argument("--no-reanalyze", action="store_true", help="summarise the analysis.json files as they are")
    p.set_defaults(func=run)


def run(args) -> None:
    from experiments.seed_ladder import seed_ladder, summary_markdown

    summary = seed_ladder(args.runs, step=args.step, reanalyze=not args.no_reanalyze)
    print(summary_markdown(summary))
    print(f"written: {Path(args.runs[0]).parent / 'ladder_seeds.json'} and ladder_seeds.md")
