"""The ladder over training seeds: re-analyse each member of a sweep (its own checkpoints, or its slot in the
sweep's vmapped ensemble) and summarise the headline rungs as mean ± sd over seeds."""

import time
from pathlib import Path

import numpy as np

from analysis.atomic import atomic_write_text, write_json
from experiments.config.experiment import resolve_process
from experiments.report.ladder import ladder_section
from experiments.run_lock import run_lock
from experiments.runner import analysis_stage, load_run_config, report_stage
from experiments.writable import check_writable
from hmm.errors import MissingFileError
from models.checkpoint import CheckpointError, Store, list_checkpoints
from models.restore import load_checkpoint


def member_source(run_dir: Path) -> tuple[Path, int | None]:
    """Where a run's checkpoints are: `(run_dir/checkpoints, None)`, or the sweep's ensemble directory
    holding its seed and learning rate and the member index there."""
    own = run_dir / "checkpoints"
    if list_checkpoints(own):
        return own, None
    train = load_run_config(run_dir).train
    for ensemble in sorted(run_dir.parent.glob("ensemble-*/checkpoints")):
        steps = list_checkpoints(ensemble)
        if not steps:
            continue
        with Store(ensemble, read_only=True) as store:
            members = store.read_meta(steps[-1]).get("members") or {}
        pairs = list(zip(members.get("seeds", []), members.get("learning_rates", [])))
        for i, (seed, rate) in enumerate(pairs):
            if seed == train.seed and np.isclose(rate, train.learning_rate):
                return ensemble, i
    raise CheckpointError(f"{run_dir} has no checkpoints and no sweep ensemble holds seed {train.seed}")


def reanalyze_member(run_dir, step: int | None = None) -> dict:
    """Analysis (with the ladder), figures and report of one run or sweep member at `step` (default: last)."""
    run_dir = check_writable(run_dir, "run directory")
    config = load_run_config(run_dir)
    source, member = member_source(run_dir)
    checkpoint = load_checkpoint(source, step, member=member)
    with run_lock(run_dir, "belieflab ladder", progress=False):
        report = analysis_stage(config, resolve_process(config.process), run_dir, checkpoint.model)
        report["checkpoint"] = {"directory": str(source), "member": member, "step": checkpoint.step}
        write_json(run_dir / "analysis.json", report)
        report_stage(config, run_dir, report)
    return report


def headline_rungs(report: dict, weighting: str) -> dict:
    """The numbers the seed summary averages, from one run's `analysis.json` content."""
    ladder, group = ladder_section(report), report["headline"]["belief"]["site"]
    section = ladder["weightings"][weighting]
    history = section.get("token_history") or {}
    out = {
        "relative_loss": (report.get("loss") or {}).get("relative"),
        "best_linear_cv_r2": (history.get("best_linear") or {}).get("cv_r2"),
        "best_lookup_cv_r2": (history.get("best_lookup") or {}).get("cv_r2"),
        "prediction_affine_cv_r2": section["prediction_ceiling"]["affine_cv"]["mean"],
        "prediction_best_function_r2": section["prediction_ceiling"]["best_function_r2"],
    }
    controls = ladder["controls"].get(group, {})
    if controls.get("weighting") == weighting:
        out["untrained_cv_r2"] = controls.get("untrained_cv_r2")
        out["heldout_null_q99"] = (controls.get("heldout_null") or {}).get("q99")
    for g, net in section["network"].items():
        name = "headline" if g == group else g
        out[f"{name}_r2"] = net["r2"]
        out[f"{name}_cv_r2"] = net["cv"]["r2"]["mean"]
        out[f"{name}_cv_r2_fold_sd"] = net["cv"]["r2"]["sd"]
        if "leave_belief_state_out" in net:
            out[f"{name}_leave_belief_state_out_r2"] = net["leave_belief_state_out"]["r2"]["mean"]
        if net.get("beyond_prediction"):
            out[f"{name}_beyond_prediction_cv_r2"] = net["beyond_prediction"]["cv"]["mean"]
    return out


def summarise(reports: list[dict]) -> dict:
    """`{weighting: {rung: {mean, sd, values}}}` over the runs (sd with ddof 1), plus the headline sites."""
    out = {
        "num_seeds": len(reports),
        "headline_sites": [r["headline"]["belief"]["site"] for r in reports],
        "steps": [(r.get("checkpoint") or {}).get("step") for r in reports],
        "weightings": {},
    }
    for weighting in ladder_section(reports[0])["weightings"]:
        rows = [headline_rungs(r, weighting) for r in reports]
        keys = list(dict.fromkeys(k for row in rows for k in row))
        summary = {}
        for key in keys:
            values = [row.get(key) for row in rows if row.get(key) is not None]
            summary[key] = {
                "mean": float(np.mean(values)) if values else None,
                "sd": float(np.std(values, ddof=1)) if len(values) > 1 else None,
                "values": values,
            }
        out["weightings"][weighting] = summary
    return out


def summary_markdown(summary: dict) -> str:
    """The seed summary as a Markdown table per weighting."""
    lines = [f"{summary['num_seeds']} seeds; headline sites {summary['headline_sites']}; steps {summary['steps']}"]
    for weighting, rungs in summary["weightings"].items():
        lines += ["", f"{weighting} weighting", "", "| rung | mean ± sd over seeds | per seed |", "| --- | --- | --- |"]
        for key, v in rungs.items():
            mean = "-" if v["mean"] is None else f"{v['mean']:.5f}"
            sd = "" if v["sd"] is None else f" ± {v['sd']:.5f}"
            lines.append(f"| {key} | {mean}{sd} | {', '.join(f'{x:.5f}' for x in v['values'])} |")
    return "\n".join(lines) + "\n"


def seed_ladder(run_dirs, step: int | None = None, reanalyze: bool = True, progress=print) -> dict:
    """Re-analyse (if `reanalyze`) every run and write `ladder_seeds.json` and `ladder_seeds.md` beside them."""
    run_dirs = [Path(r) for r in run_dirs]
    for run_dir in run_dirs:
        if not (run_dir / "config.yaml").is_file():
            raise MissingFileError(f"{run_dir} is not a run directory: it has no config.yaml")
    reports = []
    for run_dir in run_dirs:
        start = time.perf_counter()
        if reanalyze:
            reports.append(reanalyze_member(run_dir, step))
        else:
            import json

            reports.append(json.loads((run_dir / "analysis.json").read_text()))
        progress(f"{run_dir}: {time.perf_counter() - start:.0f} s")
    summary = summarise(reports)
    out_dir = run_dirs[0].parent
    write_json(out_dir / "ladder_seeds.json", summary)
    atomic_write_text(out_dir / "ladder_seeds.md", summary_markdown(summary))
    return summary
