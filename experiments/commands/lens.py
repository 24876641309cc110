"""`belieflab lens RUN...`: add every lens to finished runs (analysis.json, figures, report.html)."""

from pathlib import Path


def add_parser(sub) -> None:
    c = sub.add_parser("lens", help="add logit, tuned, shared, belief and future lenses to runs (side by side)")
    c.add_argument("runs", nargs="+", help="run directories (with config.yaml and checkpoints)")
    c.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="lens.FIELD=VALUE",
        help="change the lens config, e.g. --set lens.steps=500 --set lens.future=false",
    )
    c.add_argument("--quiet", action="store_true", help="no progress bars")
    c.set_defaults(func=run)


def _checked(run_dir: Path, overrides: list[str]):
    """The run's config with the lens overrides applied; errors name the run, before any work starts."""
    from analysis.lenses.toy import lens_sites
    from experiments.config.experiment import from_dict, parse_overrides
    from experiments.config.tree import merge
    from experiments.runner import load_run_config
    from experiments.writable import check_writable
    from hmm.errors import MissingFileError
    from models.checkpoint import list_checkpoints
    from models.config import ConfigError

    if not run_dir.is_dir():
        raise MissingFileError(f"run directory {run_dir} does not exist")
    config = load_run_config(run_dir)
    check_writable(run_dir, "run directory")
    bad = [o for o in overrides if not o.startswith("lens.")]
    if bad:
        raise ConfigError(f"--set {bad[0]!r} is invalid: only lens.FIELD=VALUE can be changed here")
    config = from_dict(merge(config.to_dict(), parse_overrides(overrides)))
    lens_sites(config.model, config.lens.sites)  # an unknown site is a one-line error
    if not list_checkpoints(run_dir / "checkpoints"):
        raise ConfigError(f"{run_dir} has no checkpoints: train it first (belieflab run)")
    return config


def run(args) -> None:
    import dataclasses

    from analysis.atomic import write_json
    from experiments.config.experiment import resolve_process
    from experiments.report.html import load_json
    from experiments.report.lens import HEADER, site_rows, text_table
    from experiments.run_lock import run_lock
    from experiments.runner import _analysis_tree, report_stage
    from experiments.stages import StageContext
    from experiments.stages.lens import STAGE as LENS
    from models.restore import load_checkpoint

    runs = [Path(r) for r in args.runs]
    configs = [_checked(r, args.overrides) for r in runs]  # validate every run before the long work
    for run_dir, config in zip(runs, configs):
        config = dataclasses.replace(config, lens=dataclasses.replace(config.lens, enabled=True))
        process = resolve_process(config.process)
        model = load_checkpoint(run_dir / "checkpoints").model
        with run_lock(run_dir, "belieflab lens", not args.quiet):
            report = load_json(run_dir / "analysis.json")
            LENS.run(
                StageContext(
                    config,
                    process,
                    run_dir,
                    model,
                    tree=_analysis_tree(process, config),
                    progress=not args.quiet,
                    report=report,
                )
            )
            report["lenses"]["compare_with"] = [str(r) for r in runs if r != run_dir]
            write_json(run_dir / "analysis.json", report)
        print(f"lenses of {run_dir} ({report['lenses']['seconds']['total']:.0f} s); nats, held-out prefixes:")
        print(text_table(site_rows(report["lenses"]), HEADER, indent="  "))
    for run_dir, config in zip(runs, configs):
        with run_lock(run_dir, "belieflab lens", not args.quiet):
            report_stage(config, run_dir, load_json(run_dir / "analysis.json"))
        print(f"  report: {run_dir / 'report.html'}")
