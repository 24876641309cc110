"""`train_ensemble`: many seeds and/or learning rates in one compiled program (vmap over members)."""

from dataclasses import dataclass

from models.config import ConfigError, ModelConfig, TrainConfig
from models.loop import run
from models.program import Members, Program
from models.trainer import RunRecord


@dataclass
class EnsembleResult(RunRecord):
    """Per member: the model, its metrics (as `train` would report them), seed and learning rate."""

    models: list
    metrics: list  # metrics[i] is member i's list of per-eval dicts
    members: Members

    def member_config(self, i: int) -> TrainConfig:
        """The `TrainConfig` that trains member i alone."""
        return self.train_config.replace(seed=self.members.seeds[i], learning_rate=self.members.learning_rates[i])


def make_members(train_config: TrainConfig, seeds=None, learning_rates=None) -> Members:
    """Members from seeds and/or learning rates; a missing list repeats the config's value."""
    if seeds is None and learning_rates is None:
        raise ConfigError("train_ensemble needs seeds=[...] and/or learning_rates=[...]")
    n = len(seeds) if seeds is not None else len(learning_rates)
    seeds = list(seeds) if seeds is not None else [train_config.seed] * n
    lrs = list(learning_rates) if learning_rates is not None else [train_config.learning_rate] * n
    if len(seeds) != len(lrs) or n == 0:
        raise ConfigError(f"seeds ({len(seeds)}) and learning_rates ({len(lrs)}) must be non-empty and equally long")
    for s, lr in zip(seeds, lrs):  # validate each member as its own TrainConfig
        train_config.replace(seed=s, learning_rate=lr)
    return Members(tuple(int(s) for s in seeds), tuple(float(lr) for lr in lrs))


def train_ensemble(
    process,
    model_config: ModelConfig | None = None,
    train_config: TrainConfig | None = None,
    seeds=None,
    learning_rates=None,
    checkpoint_dir=None,
    on_eval=None,
    progress: bool = True,
    mesh=None,
) -> EnsembleResult:
    """Train one member per seed / learning rate together; member i equals
    `train(process, model_config, result.member_config(i))` to float tolerance.

    `on_eval(step, [metrics per member])`. Checkpoints hold every member (load one with
    `load_checkpoint(dir, member=i)`). A NaN/inf loss in any member stops the ensemble.
    """
    mc = (model_config or ModelConfig()).for_vocab(process.vocab_size)
    tc = train_config or TrainConfig()
    members = make_members(tc, seeds, learning_rates)
    program = Program(process, mc, tc, members=members, mesh=mesh)
    outcome = run(program, checkpoint_dir, on_eval, progress)
    models = [program.model(program.member_params(outcome.state, i)) for i in range(len(members))]
    return EnsembleResult(
        models,
        outcome.metrics,
        members,
        step=tc.num_steps,
        model_config=mc,
        train_config=tc,
        resumed_from=outcome.resumed_from,
        timing=outcome.timing,
    )
