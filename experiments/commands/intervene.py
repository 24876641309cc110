"""`belieflab intervene RUN...`: activation patching and belief steering on finished runs (JAX imported lazily)."""

import re

OPTION_OF_FIELD = re.compile(r"config\.interventions\.(\w+)")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "intervene",
        help="activation patching and belief steering against the Bayes answer, "
        "written into each run's analysis.json, figures and report",
    )
    p.add_argument(
        "runs",
        nargs="+",
        help="run directories (their analysis.json, figures and report are updated; a part this command does not "
        "recompute, e.g. patching with --pairs 0, is kept as it was)",
    )
    p.add_argument(
        "--sites",
        default="residual",
        help="'residual' or comma-separated residual sites, e.g. blocks.0.resid_post,ln_final",
    )
    p.add_argument("--pairs", type=int, default=2000, help="base/donor pairs of the patching curve (default 2000)")
    p.add_argument(
        "--carry-pairs",
        type=int,
        default=1000,
        help="pairs sharing a next-token distribution, patched at t and read later (default 1000)",
    )
    p.add_argument("--steering-pairs", type=int, default=1000, help="prefixes steered per site (default 1000)")
    p.add_argument("--modes", default="last,all", help="patch the 'last' position and/or 'all' up to it")
    p.add_argument(
        "--target-belief",
        metavar="P0,P1,...",
        help="steer every prefix to this belief (default: each to its donor's belief)",
    )
    p.add_argument(
        "--prior-shift",
        action="store_true",
        help="mixtures only: also steer the component posterior's log-odds as a shifted prior would and compare with "
        "the Bayes filter under that prior (implied by any --prior-shift-* option)",
    )
    p.add_argument(
        "--prior-shift-only",
        action="store_true",
        help="run only the prior-shift test; the patching and steering results already in the run are kept",
    )
    p.add_argument(
        "--prior-shift-deltas",
        metavar="D1,D2,...",
        help="shifts added to the log prior of --prior-shift-component, one test each (default log 4 = 1.386: "
        "that component's prior odds times 4)",
    )
    p.add_argument(
        "--prior-shift-component",
        type=int,
        metavar="K",
        help="the mixture component whose prior is shifted (default 0)",
    )
    p.add_argument(
        "--prior-shift-sites",
        metavar="SITES",
        help="'last' (the last of --sites, default), 'residual', or comma-separated residual sites",
    )
    p.add_argument(
        "--prior-shift-sequences", type=int, metavar="N", help="held-out sequences scoring each shift (default 500)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def _numbers(text: str, option: str) -> tuple:
    from models.config import ConfigError

    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(f"{option}={text!r} is invalid: comma-separated numbers, e.g. 0.2,0.3,0.5") from None


def settings_from_args(args):
    """The `InterventionsConfig` the options describe; errors name the option."""
    from experiments.config.interventions import InterventionsConfig
    from models.config import ConfigError

    target = None if args.target_belief is None else _numbers(args.target_belief, "--target-belief")
    shift = {
        "prior_shift_deltas": None
        if args.prior_shift_deltas is None
        else _numbers(args.prior_shift_deltas, "--prior-shift-deltas"),
        "prior_shift_component": args.prior_shift_component,
        "prior_shift_sites": None
        if args.prior_shift_sites is None
        else _sites(args.prior_shift_sites, ("last", "residual")),
        "prior_shift_sequences": args.prior_shift_sequences,
    }
    shift = {k: v for k, v in shift.items() if v is not None}
    only = args.prior_shift_only
    try:
        return InterventionsConfig(
            enabled=True,
            sites=_sites(args.sites, ("residual",)),
            num_pairs=0 if only else args.pairs,
            carry_pairs=0 if only else args.carry_pairs,
            steering_pairs=0 if only else args.steering_pairs,
            target_belief=target,
            modes=tuple(m.strip() for m in args.modes.split(",")),
            prior_shift=bool(args.prior_shift or only or shift),
            **shift,
        )
    except ConfigError as err:
        raise ConfigError(_as_option(err)) from None


def _sites(text: str, words: tuple):
    return text if text in words else tuple(s.strip() for s in text.split(","))


def _as_option(err) -> str:
    return OPTION_OF_FIELD.sub(
        lambda m: "--" + {"num_pairs": "pairs"}.get(m.group(1), m.group(1)).replace("_", "-"), str(err)
    )


def run(args) -> None:
    from pathlib import Path

    from analysis.atomic import write_json
    from experiments.analysis_sections import keep_earlier_parts
    from experiments.config.experiment import resolve_process
    from experiments.report.html import load_json
    from experiments.report.interventions import summary_text
    from experiments.run_lock import run_lock
    from experiments.runner import load_run_config, report_stage
    from experiments.stages.interventions import run_interventions
    from experiments.writable import check_writable
    from models.config import ConfigError

    ic = settings_from_args(args)
    plans = []
    for run_dir in map(Path, args.runs):  # validate every run before any model runs
        config = load_run_config(run_dir)
        check_writable(run_dir, "run directory")
        process = resolve_process(config.process)
        try:
            ic.check_against(config.model.n_layers, process)
        except ConfigError as err:
            raise ConfigError(f"{run_dir}: {_as_option(err)}") from None
        plans.append((run_dir, config, process))
    from models.restore import load_checkpoint

    for run_dir, config, process in plans:
        with run_lock(run_dir, "belieflab intervene", not args.quiet):
            model = load_checkpoint(run_dir / "checkpoints").model
            section, paths = run_interventions(
                model,
                process,
                ic,
                run_dir,
                seed=config.train.seed,
                rcond=config.analysis.rcond,
                progress=not args.quiet,
            )
            report = load_json(run_dir / "analysis.json")
            section = keep_earlier_parts(report.get("interventions"), section, ic)
            report["interventions"] = section
            report.setdefault("figures", {}).update(paths)
            write_json(run_dir / "analysis.json", report)
            page = report_stage(config, run_dir, report)
        print(f"interventions on {run_dir} ({section['seconds']['total']:.0f} s):")
        print(summary_text(section))
        print(f"  report: {page}")
