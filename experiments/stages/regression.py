"""The regression stage: the belief regression with its controls on the final model, and its figures."""

from analysis.regression.analyze import analyze, draw_figures
from experiments.stages.base import Stage, StageContext


def run(ctx: StageContext) -> None:
    """Regress every site onto the beliefs (nulls, cross-validation, untrained control); sets `ctx.result`."""
    config, ac = ctx.config, ctx.config.analysis
    tokens = config.train.num_steps * config.train.batch_size * config.model.n_ctx
    result = analyze(
        ctx.model,
        ctx.process,
        sites=ac.sites,
        concat=None if ac.concat == "none" else ac.concat,
        num_shuffles=ac.shuffles,
        num_cv_shuffles=ac.cv_shuffles,
        cv_folds=ac.cv_folds,
        untrained=ac.untrained_control,
        seed=ctx.seed,
        tree=ctx.tree,
        tokens_seen=tokens,
        rcond=ac.rcond,
        num_samples=ac.num_samples,
    )
    result.figures.update(draw_figures(result, ctx.run_dir))
    ctx.result = result
    ctx.report.update(result.to_dict())


STAGE = Stage(
    "regression",
    "analysis: belief regression with controls (nulls, cross-validation, untrained model) and its figures",
    run,
    finite_states=False,
)
