"""The interventions stage (opt-in): activation patching and belief steering on the analysed model."""

from pathlib import Path

from experiments.config.interventions import InterventionsConfig
from experiments.stages.base import Stage, StageContext


def run_interventions(
    model,
    process,
    ic: InterventionsConfig,
    run_dir: Path,
    *,
    seed: int,
    rcond: float,
    prefixes=None,
    progress: bool = False,
):
    """`analysis.interventions.interventions` with the config's settings; figures under `run_dir/figures`."""
    from analysis.interventions import interventions

    return interventions(
        model,
        process,
        sites=ic.sites,
        num_pairs=ic.num_pairs,
        carry_pairs=ic.carry_pairs,
        steering_pairs=ic.steering_pairs,
        modes=ic.modes,
        target_belief=ic.target_belief,
        prior_shift=ic.prior_shift_settings(),
        seed=seed,
        rcond=rcond,
        prefixes=prefixes,
        out_dir=run_dir,
        progress=progress,
    )


def run(ctx: StageContext) -> None:
    """Patching and steering on the analysed model, on the analysis's prefixes and with its `rcond`; writes
    `report["interventions"]` and its figures."""
    section, paths = run_interventions(
        ctx.model,
        ctx.process,
        ctx.config.interventions,
        ctx.run_dir,
        seed=ctx.seed,
        rcond=ctx.config.analysis.rcond,
        prefixes=ctx.result.prefixes,
    )
    ctx.report["interventions"] = section
    ctx.report.setdefault("figures", {}).update(paths)


STAGE = Stage(
    "interventions",
    "interventions: activation patching and belief steering",
    run,
    lambda ctx: ctx.config.interventions.enabled,
)
