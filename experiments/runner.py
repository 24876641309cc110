"""`run(config)`: train, evaluate, checkpoint, analyse, draw and report into one run directory.

Re-running the same config resumes from the last checkpoint; the stages after training are cheap
and are simply redone.
"""

import json
import time
from dataclasses import dataclass
from pathlib import Path

import hmm
from analysis.atomic import append_jsonl, atomic_write_text, read_jsonl, write_json
from analysis.figures.labels import format_p, process_title
from analysis.ladder.reproducibility import environment
from analysis.regression.site_table import LONG_HEADER as SITE_HEADER
from analysis.regression.site_table import site_rows, site_table
from experiments.analysis_sections import carry_over, figure_section, figures_with_numbers
from experiments.config.experiment import ExperimentConfig, from_dict, resolve_process, save_config
from experiments.config.yaml_files import read_yaml
from experiments.metrics_file import check_steps_increase
from experiments.progress import resume_line, say, stage
from experiments.report.html import load_json, write_run_report
from experiments.report.icl import icl_tables
from experiments.report.interventions import CAPTIONS as INTERVENTION_CAPTIONS
from experiments.report.interventions import interventions_tables
from experiments.report.ladder import ladder_tables
from experiments.report.lens import lens_sections
from experiments.report.target_notes import next_token_note
from experiments.report.training_figure import plot_training_curves
from experiments.run_lock import run_lock
from experiments.stages import StageContext, run_stages
from experiments.stages.icl import CAPTIONS as ICL_CAPTIONS
from experiments.stages.ladder import CAPTIONS as LADDER_CAPTIONS
from experiments.writable import check_writable
from hmm.errors import MissingFileError
from models.checkpoint import CheckpointError, list_checkpoints
from models.config import ConfigError
from models.restore import load_checkpoint
from models.trainer import train

CAPTIONS = {
    "training_curves": "Training loss (batch means, logged every few steps) and exact evaluation loss against the "
    "Bayes-optimal loss, and the excess (relative loss − 1).",
    "geometry": "Ground-truth beliefs (left) beside the beliefs linearly decoded from each site and "
    "concatenation (coloured by the true belief).",
    "r2_by_site": "Probability-weighted R² of the belief regression per site, with the shuffle-null band "
    "and the untrained control.",
    "r2_vs_tokens": "R² of the belief regression at every checkpoint against training tokens.",
    "emergence_grid": "The decoded belief geometry at each checkpoint: the fractal emerging over training.",
    "emergence": "The same as an animation.",
    "geometry_component": "The component posterior (a point of the simplex over a mixture's components) beside its "
    "linear read-out from each site.",
    "geometry_untrained": "Control: the same regression on the untrained architecture.",
    **LADDER_CAPTIONS,
    **ICL_CAPTIONS,
    **INTERVENTION_CAPTIONS,
}


@dataclass
class RunOutcome:
    """Where a run's files are and the headline numbers of its summary screen."""

    run_dir: Path
    summary: str
    analysis: dict
    resumed_from: int | None
    seconds: float


def load_run_config(run_dir) -> ExperimentConfig:
    """The resolved config saved in a run directory."""
    path = Path(run_dir) / "config.yaml"
    if not path.is_file():
        raise MissingFileError(f"{run_dir} is not a run directory: it has no config.yaml")
    values = read_yaml(path, "run config")
    if not isinstance(values, dict):
        raise ConfigError(f"run config {path} must be a mapping of sections, not {type(values).__name__}")
    return from_dict(values)


def _trim_metrics(metrics_path: Path, last_step: int | None) -> None:
    """Keep metrics up to the checkpoint training resumes from (later ones are recomputed)."""
    records = read_jsonl(metrics_path)
    kept = [r for r in records if last_step is not None and r.get("step", 0) <= last_step]
    if len(kept) != len(records) or (records and not metrics_path.read_text().endswith("\n")):
        atomic_write_text(metrics_path, "".join(json.dumps(r, default=float) + "\n" for r in kept))


def prepare_metrics(run_dirs: list[Path], checkpoint_dir: Path) -> list[Path]:
    """Each run's metrics.jsonl trimmed to the checkpoint training will resume from; their paths."""
    existing = list_checkpoints(checkpoint_dir)
    paths = [run_dir / "metrics.jsonl" for run_dir in run_dirs]
    for path in paths:
        if existing:
            check_steps_increase(path)
        _trim_metrics(path, existing[-1] if existing else None)
    return paths


def train_stage(config: ExperimentConfig, process: hmm.Process, run_dir: Path, progress: bool):
    """Train (or resume) with checkpoints in `run_dir/checkpoints`, streaming evaluations to metrics.jsonl."""
    checkpoint_dir = run_dir / "checkpoints"
    existing = list_checkpoints(checkpoint_dir)
    if existing:
        say(resume_line(existing, config.train.num_steps, checkpoint_dir), progress)
    else:
        save_config(config, run_dir / "config.yaml")
    [metrics_path] = prepare_metrics([run_dir], checkpoint_dir)
    try:
        result = train(
            process,
            config.model,
            config.train,
            checkpoint_dir=checkpoint_dir,
            on_eval=lambda step, metrics: append_jsonl(metrics_path, {"step": step, **metrics}),
            progress=progress,
        )
    except CheckpointError as err:
        raise CheckpointError(f"{err}{_other_name_hint(config, run_dir)}") from None
    save_config(config, run_dir / "config.yaml")  # the checkpoint accepted it: this is what ran
    return result


def _other_name_hint(config: ExperimentConfig, run_dir: Path) -> str:
    """For a checkpoint of a different training: the exact `name=` that keeps both runs."""
    from experiments.config.run_name import name_for_changes

    try:
        saved = read_yaml(run_dir / "config.yaml", "run config")
    except ConfigError:
        return ""
    if not isinstance(saved, dict):
        return ""
    name = name_for_changes(config.name, saved, config.to_dict())
    if name == config.name:
        return ""
    return f"\nto keep both runs, add name={name} to the command (run directory {Path(config.output_dir) / name})"


def analysis_stage(
    config: ExperimentConfig, process: hmm.Process, run_dir: Path, model=None, progress: bool = False
) -> dict:
    """Every registered analysis stage on the final model (`experiments.stages.STAGES`), the loss summary and
    the training curves; writes and returns `analysis.json`."""
    if model is None:
        model = load_checkpoint(run_dir / "checkpoints").model
    earlier = _earlier_analysis(run_dir)
    ctx = StageContext(config, process, run_dir, model, tree=_analysis_tree(process, config), progress=progress)
    report = run_stages(ctx)
    report["environment"] = environment()
    metrics = read_jsonl(run_dir / "metrics.jsonl")
    report["loss"] = _loss_summary(metrics, process, config)
    curves = plot_training_curves(metrics, report["loss"]["optimal"], run_dir / "figures" / "training_curves.png")
    if curves:
        ctx.add_figures({"training_curves": curves})
    _keep_earlier_sections(earlier, report, run_dir, progress)
    write_json(run_dir / "analysis.json", report)
    return report


def _earlier_analysis(run_dir: Path) -> dict:
    """The run's analysis.json before this analysis ({} when absent or damaged: it is about to be rewritten)."""
    try:
        return load_json(run_dir / "analysis.json")
    except ConfigError:
        return {}


def _keep_earlier_sections(earlier: dict, report: dict, run_dir: Path, progress: bool) -> None:
    """Carry the sections no enabled stage rewrote (e.g. `interventions` from `belieflab intervene`) over from
    the earlier analysis of the same final model; an earlier analysis of another step is dropped, and said so."""
    if not earlier:
        return
    step, earlier_step = report["loss"].get("step"), (earlier.get("loss") or {}).get("step")
    if earlier_step == step:
        kept = carry_over(earlier, report, run_dir)
        if kept:
            say(f"kept from the earlier analysis.json (not recomputed here): {', '.join(kept)}", progress)
        return
    lost = [k for k, v in earlier.items() if v and k not in report and k != "figures"]
    if lost:
        say(
            f"dropped from the earlier analysis.json (it analysed step {earlier_step}, the model is now at step "
            f"{step}): {', '.join(lost)}",
            progress,
        )


def _analysis_tree(process: hmm.Process, config: ExperimentConfig):
    """The exact tree at the model's context when it is small enough, else None (the analysis samples)."""
    length = config.model.n_ctx - int(config.model.bos)
    if not isinstance(process, hmm.Process) or process.vocab_size**length > 2**17:
        return None
    return hmm.mixed_state_presentation(process, length)


def _loss_summary(metrics: list[dict], process: hmm.Process, config: ExperimentConfig) -> dict:
    """Final loss against the optimum (exact when the evaluation was; the sampled evaluation set's otherwise)."""
    evals = [m for m in metrics if "eval/loss" in m]
    last = evals[-1] if evals else {}
    exact = isinstance(process, hmm.Process) and last.get("eval/exact", True)  # else the tree is too large
    optimal = (
        hmm.optimal_loss(process, config.model.n_ctx, bos=config.model.bos) if exact else last.get("eval/optimal_loss")
    )
    return {
        "optimal": optimal,
        "final": last.get("eval/loss"),
        "relative": last.get("eval/relative_loss"),
        "kl": last.get("eval/kl"),
        "step": last.get("step"),
    }


def summary_text(
    config: ExperimentConfig, run_dir: Path, report: dict, seconds: float, resumed_from: int | None
) -> str:
    """The one-screen summary printed at the end of a run."""
    loss = report["loss"]
    resumed = f", resumed from step {resumed_from}" if resumed_from else ""
    lines = [f"run {config.name}: {config.process.name} finished in {seconds:.0f} s{resumed}"]
    if loss["relative"] is not None:
        lines.append(
            f"  loss {loss['final']:.5f} nats, optimum at context {config.model.n_ctx} {loss['optimal']:.5f}, "
            f"relative loss {loss['relative']:.5f}, KL to Bayes {loss['kl']:.2e}"
        )
    if "trained" in report:
        lines.append(
            f"  {report['targets'][0]} regression (probability-weighted R²; shuffle null in sample, p; k-fold "
            "CV R² and its shuffle null; untrained control; MSE over every sequence and position):"
        )
        lines.append(site_table(report, report["targets"][0], indent="    "))
    lines.append(f"  figures: {run_dir / 'figures'}")
    lines.append(f"  report:  {run_dir / 'report.html'}")
    return "\n".join(lines)


def report_stage(config: ExperimentConfig, run_dir: Path, report: dict) -> Path:
    """`report.html` with the summary table, figures, last evaluation and config."""
    check_steps_increase(run_dir / "metrics.jsonl")
    loss = report.get("loss", {})
    head = report.get("headline", {}).get("belief", {})
    process = resolve_process(config.process)
    shuffles = (report.get("settings") or {}).get("num_shuffles")
    rows = [
        ["process", process_title(process)],
        [f"optimal loss (nats, context {config.model.n_ctx})", loss.get("optimal")],
        ["final loss (nats)", loss.get("final")],
        ["relative loss", loss.get("relative")],
        ["best single site", head.get("site")],
        ["weighted R²", head.get("r2")],
        ["shuffle null (in sample): mean", head.get("null_mean")],
        ["shuffle null (in sample): 99th percentile", head.get("null_q99")],
        ["shuffle p-value", format_p(head.get("p_value"), shuffles) if head.get("p_value") else None],
        ["held-out R² (random k-fold CV, one split)", head.get("cv_r2")],
        ["held-out shuffle null: mean", head.get("cv_null_mean")],
        ["held-out shuffle null: 99th percentile", head.get("cv_null_q99")],
        ["untrained-control R²", head.get("untrained_r2")],
        ["MSE over every sequence and position (the paper's number)", head.get("mse_paper")],
        ["MSE over distinct prefixes, unweighted", head.get("mse_unweighted")],
    ]
    header = [f"shuffle p ({shuffles:,} permutations)" if h == "shuffle p" and shuffles else h for h in SITE_HEADER]
    by_site = [
        (
            f"Regression onto the {target.replace('_', '-')} by site",
            header,
            site_rows(report, target, compact=True),
            next_token_note(process, report) if target == "next_token" and isinstance(process, hmm.Process) else "",
        )
        for target in report.get("targets", [])
    ]
    by_site += interventions_tables(report) + ladder_tables(report) + icl_tables(report)
    figures = {k: v for k, v in figures_with_numbers(report).items() if figure_section(k) != "lenses"}
    return write_run_report(
        run_dir,
        [r for r in rows if r[1] is not None],
        CAPTIONS,
        by_site,
        sections=lens_sections(run_dir, report),
        figures=figures,
    )


def run(config: ExperimentConfig, progress: bool = True) -> RunOutcome:
    """Train (resuming if checkpoints exist), analyse, draw and report; returns the summary."""
    start = time.perf_counter()
    run_dir = check_writable(config.run_dir, "run directory")
    process = resolve_process(config.process)
    with run_lock(run_dir, "belieflab run", progress):
        result = train_stage(config, process, run_dir, progress)
        report = analysis_stage(config, process, run_dir, result.model, progress)
        with stage("report", progress):
            report_stage(config, run_dir, report)
    seconds = time.perf_counter() - start
    return RunOutcome(
        run_dir,
        summary_text(config, run_dir, report, seconds, result.resumed_from),
        report,
        result.resumed_from,
        seconds,
    )


def reanalyze(run_dir, progress: bool = True) -> RunOutcome:
    """Redo analysis, figures and report of a finished (or interrupted) run from its checkpoints."""
    start = time.perf_counter()
    run_dir = Path(run_dir)
    config = load_run_config(run_dir)
    check_writable(run_dir, "run directory")
    process = resolve_process(config.process)
    with run_lock(run_dir, "belieflab analyze", progress):
        check_steps_increase(run_dir / "metrics.jsonl")
        report = analysis_stage(config, process, run_dir, progress=progress)
        with stage("report", progress):
            report_stage(config, run_dir, report)
    seconds = time.perf_counter() - start
    return RunOutcome(run_dir, summary_text(config, run_dir, report, seconds, None), report, None, seconds)
