"""The lens stage of a run: every lens on the final model, into `report["lenses"]` and the figures."""

import hmm
from analysis.lenses.figures import draw_lens_figures
from analysis.lenses.toy import toy_lenses
from experiments.stages.base import Stage, StageContext


def run(ctx: StageContext) -> None:
    """Run the lenses `config.lens` asks for on the model; adds `report["lenses"]` and lens figure paths."""
    config, process, seed, lc = ctx.config, ctx.process, ctx.seed, ctx.config.lens
    section = toy_lenses(
        ctx.model,
        process,
        sites=lc.sites,
        recipe=lc.recipe(seed),
        heldout_fraction=lc.heldout_fraction,
        tuned=lc.tuned,
        shared=lc.shared,
        transfer=lc.transfer,
        belief=lc.belief,
        future=lc.future,
        horizons=lc.horizons,
        future_recipe=lc.future_recipe(seed),
        untrained=lc.untrained_control,
        seed=seed,
        tree=ctx.tree,
        progress=ctx.progress,
    )
    ctx.report["lenses"] = section
    if lc.figures:
        title = f"{config.name}: {hmm.display_name(process)}"
        ctx.report.setdefault("figures", {}).update(draw_lens_figures(section, ctx.run_dir, title=title))


STAGE = Stage(
    "lenses",
    "lenses: logit, tuned, shared, belief and future lenses, transfer matrices",
    run,
    lambda ctx: ctx.config.lens.enabled,
)


STAGE = Stage(
    "lenses",
    "lenses: logit, tuned, shared, belief and future lenses, transfer matrices",
    run,
    lambda ctx: ctx.config.lens.enabled,
)


def lens_sections(run_dir, report: dict) -> list:
    """The report.html section of the lenses (see `experiments.report.lens`)."""
    from experiments.report.lens import lens_sections as sections

    return sections(run_dir, report)
