"""The emergence stage: the regression at every checkpoint, its figures and animation (`report["training"]`)."""

from tqdm.auto import tqdm

from analysis.regression.emergence import analyze_training, checkpoints_from_dir
from experiments.stages.base import Stage, StageContext
from models.checkpoint import list_checkpoints


def enabled(ctx: StageContext) -> bool:
    return ctx.config.analysis.emergence and len(list_checkpoints(ctx.run_dir / "checkpoints")) > 1


def run(ctx: StageContext) -> None:
    ac, checkpoint_dir = ctx.config.analysis, ctx.run_dir / "checkpoints"
    checkpoints = tqdm(
        checkpoints_from_dir(checkpoint_dir),
        total=len(list_checkpoints(checkpoint_dir)),
        unit="checkpoint",
        disable=not ctx.progress,
        leave=False,
        dynamic_ncols=True,
    )
    curve = analyze_training(
        checkpoints,
        ctx.process,
        sites=ac.emergence_sites,
        num_shuffles=ac.emergence_shuffles,
        seed=ctx.seed,
        tree=ctx.tree,
        out_dir=ctx.run_dir,
        rcond=ac.rcond,
    )
    ctx.report["training"] = curve.to_dict()
    ctx.report["figures"].update(curve.figures)


STAGE = Stage("training", "emergence: the regression at every checkpoint, its figures and animation", run, enabled)
