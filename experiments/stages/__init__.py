"""The analysis stages of a run, in order. Adding a stage is one module with a `STAGE` plus one line below."""

from experiments.progress import stage as progress_line
from experiments.stages import emergence, icl, interventions, ladder, lens, regression
from experiments.stages.base import Stage, StageContext

STAGES: list[Stage] = [
    regression.STAGE,
    ladder.STAGE,
    emergence.STAGE,
    lens.STAGE,
    interventions.STAGE,
    icl.STAGE,
]


def run_stages(ctx: StageContext, stages: list[Stage] = STAGES) -> dict:
    """Run every enabled stage on `ctx`, each with its progress line; returns the report dict."""
    for s in stages:
        if s.applies(ctx):
            with progress_line(s.title, ctx.progress):
                s.run(ctx)
    return ctx.report


__all__ = ["STAGES", "Stage", "StageContext", "run_stages"]
