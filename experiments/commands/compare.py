"""`belieflab compare RUN... LLM_RUN`: toy and LLM lens curves on one depth axis, in one HTML page; with a probe-llm
run, belief R² and lens KL to Bayes by relative depth of the toy runs and the LLM, and the LLM's in-context KL to
Bayes."""


def add_parser(sub):
    p = sub.add_parser("compare", help="lens curves and transfer matrices of several runs on one depth axis")
    p.add_argument(
        "runs",
        nargs="+",
        help="run directories (toy runs, lens-llm runs, probe-llm runs on the toy runs' process; beside a probe-llm "
        "run, toy runs need lens results: belieflab lens RUN)",
    )
    p.add_argument("--output-dir", default="runs/compare", help="where compare.html goes (default runs/compare)")
    p.set_defaults(func=run)


def run(args):
    from experiments.report.compare import write_compare
    from experiments.writable import check_writable

    check_writable(args.output_dir, "--output-dir")
    print(f"wrote {write_compare(args.runs, args.output_dir)}")
