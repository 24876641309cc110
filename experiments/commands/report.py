"""`belieflab report RUN ...`: rebuild report.html of runs from their files (no recomputation)."""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "report",
        help="rebuild report.html of runs from their files",
        description="Rebuild report.html of each run from its config.yaml, analysis.json, "
        "metrics.jsonl and figures (nothing is recomputed).",
    )
    p.add_argument("runs", nargs="+", help="run directories")


def run(args) -> None:
    from pathlib import Path

    from experiments.report.html import load_json
    from experiments.run_lock import run_lock
    from experiments.runner import load_run_config, report_stage
    from experiments.writable import check_writable
    from hmm.errors import MissingFileError

    for run_dir in map(Path, args.runs):
        config = load_run_config(run_dir)
        if not (run_dir / "analysis.json").is_file():
            raise MissingFileError(
                f"{run_dir} has no analysis.json: the report's tables and figures come from "
                f"it; make it with `belieflab analyze {run_dir}`"
            )
        check_writable(run_dir, "run directory")
        with run_lock(run_dir, "belieflab report"):
            print(report_stage(config, run_dir, load_json(run_dir / "analysis.json")))
