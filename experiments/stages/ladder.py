"""The ladder stage: the referee's ladder and its figures, into `report["ladder"]` and `report["figures"]`."""

from pathlib import Path

import numpy as np

import hmm
from analysis.figures.ladder import plot_geometry_at_length, plot_ladder
from analysis.ladder.ladder import referee_ladder
from experiments.stages.base import Stage, StageContext
from models.config import ConfigError

CAPTIONS = {
    "ladder": "Unexplained share 1 − R² (log axis) of the token-history baselines against k, with the network "
    "(held out, mean ± sd over fold seeds; in sample dotted), the prediction-only ceiling and the "
    "controls; right: within each prefix length.",
    "geometry_by_length": "The regressed belief geometry over all prefix lengths beside one length only "
    "(where the belief is least a function of the last few tokens).",
}


def add_ladder(report: dict, result, model, run_dir: Path, config) -> None:
    """Measure the ladder for `result` (an `AnalysisResult`) with `config` (a `LadderConfig`) and draw its
    figures under `run_dir/figures`."""
    lengths = result.prefixes.lengths
    if config.geometry_length is not None and not np.any(lengths == config.geometry_length):
        raise ConfigError(
            f"config.ladder.geometry_length={config.geometry_length} is invalid: prefix lengths "
            f"are {int(lengths.min())}..{int(lengths.max())}"
        )
    ladder = referee_ladder(
        result,
        model,
        max_k=config.max_k,
        fold_seeds=config.fold_seeds,
        rcond_grid=config.rcond_grid,
        weightings=config.weightings,
        leave_belief_state_out=config.leave_belief_state_out,
        pairs=config.pairs,
        concat_max_cost=config.concat_max_cost,
    )
    report["ladder"] = ladder
    title = f"{hmm.display_name(result.process)}, {result.prefixes.num_prefixes:,} prefixes"
    figures = Path(run_dir) / "figures"
    group = result.headline()["site"]
    paths = {"ladder": plot_ladder(ladder, group, figures / "ladder.png", title=title)}
    shown = {g: result.trained[g] for g in ladder["groups"]}
    paths["geometry_by_length"] = plot_geometry_at_length(
        result.prefixes, shown, figures / "geometry_by_length.png", config.geometry_length, title=title
    )
    report.setdefault("figures", {}).update({k: str(Path(v).relative_to(run_dir)) for k, v in paths.items()})


def run(ctx: StageContext) -> None:
    add_ladder(ctx.report, ctx.result, ctx.model, ctx.run_dir, ctx.config.ladder)


STAGE = Stage(
    "ladder",
    "ladder: token history, prediction-only ceiling, stratified and nested CV",
    run,
    lambda ctx: ctx.config.ladder.enabled,
)
