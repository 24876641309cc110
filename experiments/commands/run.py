"""`belieflab run CONFIG [key.path=value ...]`: train, analyse, plot and report one experiment."""

from experiments.config.shipped import shipped_configs


def add_config_arguments(parser, positional: str, nargs: str, metavar: str, text: str) -> None:
    """A config (file or shipped name), a list of KEY=VALUE words, --output-dir and --quiet."""
    parser.add_argument("config", help=f"a config file or a shipped config ({', '.join(shipped_configs())})")
    parser.add_argument(positional, nargs=nargs, metavar=metavar, help=text)
    parser.add_argument("--output-dir", help="parent of the run or sweep directory (default: runs)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def output_overrides(overrides: list[str], output_dir: str | None) -> list[str]:
    return list(overrides) + ([f"output_dir={output_dir}"] if output_dir else [])


def add_parser(sub) -> None:
    p = sub.add_parser(
        "run",
        help="train, analyse, plot and report one experiment (resumes if interrupted)",
        description="Train, analyse, plot and report one experiment into OUTPUT_DIR/NAME; "
        "re-running the same config resumes from the last checkpoint.",
    )
    add_config_arguments(p, "overrides", "*", "KEY.PATH=VALUE", "e.g. train.num_steps=2000 model.n_layers=2")


def run(args) -> None:
    import dataclasses

    from experiments.config.experiment import load_config
    from experiments.config.run_name import derived_run_name
    from experiments.runner import run as run_experiment

    config = load_config(args.config, output_overrides(args.overrides, args.output_dir))
    config = dataclasses.replace(config, name=derived_run_name(config.name, args.overrides))
    print(f"run directory: {config.run_dir}", flush=True)
    print(run_experiment(config, progress=not args.quiet).summary)
