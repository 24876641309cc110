"""The in-context stage: the model's loss by position beside both Bayes predictors and the in-context
unigram/bigram estimators, into `report["icl"]` and `figures/icl_loss_by_position.png`."""

from analysis.figures.icl import plot_icl_loss_by_position
from analysis.figures.labels import process_title
from analysis.icl.curves import dirichlet_alpha, icl_section
from analysis.icl.sequences import sequence_set
from experiments.stages.base import Stage, StageContext
from models.data import context_length
from models.keys import jax_key

CAPTIONS = {
    "icl_loss_by_position": "In-context loss by position (tokens seen, log axis): the model beside the "
    "Bayes predictors of the finite pool and of the Dirichlet prior, and the "
    "in-context unigram and bigram estimators; right: the model's excess over "
    "the training process's Bayes loss and its KL to it."
}


def applies(ctx: StageContext) -> bool:
    """In-context processes: mixtures, Markov pools and the Dirichlet Markov family."""
    return bool(getattr(ctx.process, "is_mixture", False)) or dirichlet_alpha(ctx.process) is not None


def run(ctx: StageContext) -> None:
    cfg = ctx.config.model
    sequences = sequence_set(
        ctx.process, context_length(cfg), jax_key(ctx.seed, "icl_samples"), num_sampled=ctx.config.train.eval_sequences
    )
    section = icl_section(ctx.model, ctx.process, sequences)
    path = plot_icl_loss_by_position(
        section, ctx.run_dir / "figures" / "icl_loss_by_position.png", title=process_title(ctx.process)
    )
    ctx.report["icl"] = section
    ctx.add_figures({"icl_loss_by_position": path})


STAGE = Stage(
    "icl",
    "in-context loss by position against both Bayes predictors and the n-gram estimators",
    run,
    applies,
    finite_states=False,
)
