"""`sweep(config, axes)`: a grid of runs; points differing only in seed or learning rate (and, for a markov_pool,
its pool size, seed or alpha) train as one vmapped ensemble. Writes one run directory per point (each as a solo
run's: config, checkpoints, analysis, report) plus `summary.csv` and `report.html`."""

import contextlib
import csv
import hashlib
import io
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analysis.atomic import append_jsonl, atomic_write_text
from experiments.config.experiment import ExperimentConfig, from_dict, load_config, resolve_process, save_config
from experiments.config.tree import set_path
from experiments.grid import expand, group_for_ensembles
from experiments.report.html import write_sweep_report
from experiments.run_lock import run_lock
from experiments.runner import analysis_stage, prepare_metrics, report_stage, run
from experiments.writable import check_writable
from models.ensemble import train_ensemble
from models.member_checkpoint import save_member_checkpoints

SHORT = {"train.seed": "seed", "train.learning_rate": "lr", "process.params.num_chains": "M"}


@dataclass
class SweepOutcome:
    sweep_dir: Path
    summary: str
    rows: list[dict]


def point_name(point: dict) -> str:
    """A directory name for a grid point, e.g. `lr=0.003-seed=1`."""
    return "-".join(f"{SHORT.get(k, k)}={v}" for k, v in sorted(point.items())) or "base"


def point_config(base: ExperimentConfig, point: dict, sweep_dir: Path) -> ExperimentConfig:
    values = base.to_dict()
    for key, value in point.items():
        set_path(values, key, value)
    values.update(name=point_name(point), output_dir=str(sweep_dir))
    return from_dict(values)


def ensemble_dir_name(point_names: list[str], limit: int = 200) -> str:
    """`ensemble-` and the members' names, or for a name longer than `limit` (file systems stop at 255 bytes)
    the member count and a digest of all names (stable, so a rerun resumes)."""
    name = "ensemble-" + "-".join(point_names)
    if len(name.encode()) <= limit:
        return name
    digest = hashlib.sha256("\n".join(point_names).encode()).hexdigest()[:12]
    return f"ensemble-{len(point_names)}-members-{digest}"


def _train_ensemble_group(configs: list[ExperimentConfig], sweep_dir: Path, progress: bool) -> list[dict]:
    """Train points that differ only in vmappable keys together; analyse each member's final model."""
    processes = [resolve_process(c.process) for c in configs]
    group_dir = sweep_dir / ensemble_dir_name([c.name for c in configs])
    run_dirs = [check_writable(c.run_dir, "run directory") for c in configs]
    with contextlib.ExitStack() as locks:
        for run_dir in run_dirs:
            locks.enter_context(run_lock(run_dir, "belieflab sweep", progress))
        return _train_locked_group(configs, run_dirs, group_dir, processes, progress)


def _train_locked_group(configs, run_dirs, group_dir, processes, progress) -> list[dict]:
    """The ensemble's training, each member's checkpoint in its run directory, and each member's analysis, with
    every member's run directory locked."""
    first = configs[0]
    for config, run_dir in zip(configs, run_dirs):
        save_config(config, run_dir / "config.yaml")
    metrics_paths = prepare_metrics(run_dirs, group_dir / "checkpoints")
    own_pools = any(c.process != first.process for c in configs)
    result = train_ensemble(
        processes[0],
        first.model,
        first.train,
        seeds=[c.train.seed for c in configs],
        learning_rates=[c.train.learning_rate for c in configs],
        processes=processes if own_pools else None,
        checkpoint_dir=group_dir / "checkpoints",
        on_eval=lambda step, per_member: [
            append_jsonl(p, {"step": step, **m}) for p, m in zip(metrics_paths, per_member)
        ],
        progress=progress,
    )
    save_member_checkpoints(group_dir / "checkpoints", [run_dir / "checkpoints" for run_dir in run_dirs])
    reports = []
    for config, process, run_dir, model in zip(configs, processes, run_dirs, result.models):
        report = analysis_stage(config, process, run_dir, model)
        report_stage(config, run_dir, report)
        reports.append(report)
    return reports


def _row(point: dict, report: dict, site: str) -> dict:
    trained = report["trained"]
    target = trained.get(site, {}).get("targets", {}).get("belief", {})
    concat = trained.get("concat", {}).get("targets", {}).get("belief", {})
    return {
        **{SHORT.get(k, k): v for k, v in point.items()},
        "relative_loss": report["loss"]["relative"],
        f"r2[{site}]": target.get("r2"),
        f"cv_r2[{site}]": (target.get("cv") or {}).get("r2"),
        f"mse_paper[{site}]": target.get("mse_paper"),
        "shuffle_p": (target.get("shuffle") or {}).get("p_value"),
        "cv_r2[concat]": (concat.get("cv") or {}).get("r2"),
    }


def aggregate(rows: list[dict], group_keys: list[str]) -> list[dict]:
    """Mean and standard deviation (ddof 1) over the seeds of each setting of `group_keys`."""
    settings: dict[tuple, list[dict]] = {}
    for row in rows:
        settings.setdefault(tuple(row.get(k) for k in group_keys), []).append(row)
    out = []
    for values, members in settings.items():
        entry = dict(zip(group_keys, values), n_seeds=len(members))
        for metric in [k for k in members[0] if k not in group_keys and k != "seed"]:
            data = np.array([m[metric] for m in members if m[metric] is not None], float)
            entry[f"{metric}_mean"] = float(data.mean()) if len(data) else None
            entry[f"{metric}_sd"] = float(data.std(ddof=1)) if len(data) > 1 else None
        out.append(entry)
    return out


def _csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _format(value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def sweep(config_name, axes: list[str], output_dir: str | None = None, progress: bool = True) -> SweepOutcome:
    """Run every grid point (ensembles where possible), then write summary.csv, runs.csv and report.html."""
    start = time.perf_counter()
    base = load_config(config_name, [f"output_dir={output_dir}"] if output_dir else [])
    keys, points = expand(axes)
    sweep_dir = check_writable(Path(base.output_dir) / f"{base.name}-sweep", "sweep directory")
    site = f"blocks.{base.model.n_layers - 1}.resid_post"
    rows = []
    groups = group_for_ensembles(points, base.process.name)
    for group in groups:
        configs = [point_config(base, point, sweep_dir) for point in group]
        if len(group) > 1:
            reports = _train_ensemble_group(configs, sweep_dir, progress)
        else:
            reports = [run(configs[0], progress=progress).analysis]
        rows += [_row(point, report, site) for point, report in zip(group, reports)]
    group_keys = [SHORT.get(k, k) for k in keys if k != "train.seed"]
    summary = aggregate(rows, group_keys)
    atomic_write_text(sweep_dir / "runs.csv", _csv(rows))
    atomic_write_text(sweep_dir / "summary.csv", _csv(summary))
    header = list(summary[0])
    write_sweep_report(sweep_dir, [[_format(r[h]) for h in header] for r in summary], header)
    sizes = [len(g) for g in groups if len(g) > 1]
    of = f" of {', '.join(map(str, sizes))} members" if sizes else ""
    lines = [
        f"sweep {base.name}: {len(points)} runs in {time.perf_counter() - start:.0f} s ({len(sizes)} vmapped ensembles{of})"
    ]
    for entry in summary:
        setting = ", ".join(f"{k}={entry[k]}" for k in group_keys) or "all"
        r2, sd = entry.get(f"r2[{site}]_mean"), entry.get(f"r2[{site}]_sd")
        rel, rel_sd = entry.get("relative_loss_mean"), entry.get("relative_loss_sd")
        lines.append(
            f"  {setting}: n={entry['n_seeds']}  R²[{site}] = {_pm(r2, sd)}  relative loss = {_pm(rel, rel_sd)}"
        )
    lines.append(f"  summary: {sweep_dir / 'summary.csv'}  report: {sweep_dir / 'report.html'}")
    return SweepOutcome(sweep_dir, "\n".join(lines), rows)


def _pm(mean, sd) -> str:
    if mean is None:
        return "-"
    return f"{mean:.5f}" + (f" ± {sd:.5f}" if sd is not None else "")
