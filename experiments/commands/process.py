"""`belieflab process NAME|FILE`: summarise a process and optionally plot its ground-truth belief geometry."""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "process",
        help="summarise a process (entropies, tree, optimal loss); plot its beliefs",
        description="Summarise a process: sizes, stationary distribution, myopic entropies, the "
        "mixed-state tree and the optimal loss of a model of context --max-len.",
    )
    p.add_argument(
        "name",
        help="a registered process (mess3, rrxor, z1r, ...; an unknown name lists them all) "
        "or a process file (.yaml, .json, .npz)",
    )
    p.add_argument("--param", action="append", default=[], metavar="K=V", help="process parameter, e.g. x=0.1")
    p.add_argument(
        "--max-len",
        type=int,
        default=10,
        help="depth of the mixed-state tree and context of the optimal loss (default 10)",
    )
    p.add_argument("--min-prob", type=float, default=0.0, help="drop prefixes less probable than this")
    p.add_argument("--plot", metavar="FILE", help="write the ground-truth belief figure (PNG)")


def parse_params(pairs: list[str]) -> dict:
    """`["x=0.1", "alpha=0.9"]` -> `{"x": 0.1, "alpha": 0.9}`; values parsed as YAML scalars."""
    import yaml

    from hmm.errors import ProcessError

    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ProcessError(f"--param expects key=value, got {pair!r}")
        params[key.strip()] = yaml.safe_load(value)
    return params


def run(args) -> None:
    import hmm
    from experiments.config.experiment import ProcessConfig, resolve_process
    from experiments.report.process_summary import describe_process

    if args.max_len < 1:
        raise hmm.ProcessError(f"--max-len={args.max_len} is invalid: must be >= 1")
    process = resolve_process(ProcessConfig(args.name, parse_params(args.param)))
    tree = hmm.mixed_state_presentation(process, args.max_len, min_prob=args.min_prob)
    print(describe_process(process, args.max_len, tree))
    if args.plot:
        import analysis

        analysis.plot_ground_truth(tree, args.plot)
        print(f"  figure: {args.plot}")
