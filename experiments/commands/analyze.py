"""`belieflab analyze RUN ...` (and its alias `plot`): redo analysis, figures and report from checkpoints."""


def add_parser(sub) -> None:
    for name, text in (
        ("analyze", "redo the analysis, figures and report of runs from their checkpoints"),
        ("plot", "redraw the figures (recomputing the analysis) of runs from their checkpoints"),
    ):
        p = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        p.add_argument("runs", nargs="+", help="run directories")
        p.add_argument("--quiet", action="store_true", help="no stage lines or progress bars")


def run(args) -> None:
    from experiments.runner import reanalyze

    for run_dir in args.runs:
        print(reanalyze(run_dir, progress=not args.quiet).summary)
