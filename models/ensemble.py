"""`train_ensemble`: many seeds, learning rates and/or pools of Markov chains in one compiled program (vmap
over members)."""

from dataclasses import dataclass

from models.config import ConfigError, ModelConfig, TrainConfig
from models.loop import run
from models.pool_source import check_pool_members
from models.program import Members, Program
from models.trainer import RunRecord


@dataclass
class EnsembleResult(RunRecord):
    """Per member: the model, its metrics (as `train` would report them), seed, learning rate and process."""

    models: list
    metrics: list  # metrics[i] is member i's list of per-eval dicts
    members: Members
    process: object = None  # the process shared by members without their own

    def member_config(self, i: int) -> TrainConfig:
        """The `TrainConfig` that trains member i alone."""
        return self.train_config.replace(seed=self.members.seeds[i], learning_rate=self.members.learning_rates[i])

    def member_process(self, i: int):
        """The process member i trained on."""
        return self.members.processes[i] if self.members.processes is not None else self.process


def make_members(train_config: TrainConfig, seeds=None, learning_rates=None, processes=None) -> Members:
    """Members from seeds, learning rates and/or processes (`markov_pool` ones, one vocabulary); a missing
    list repeats the config's value (or the ensemble's process)."""
    given = {
        k: v for k, v in dict(seeds=seeds, learning_rates=learning_rates, processes=processes).items() if v is not None
    }
    if not given:
        raise ConfigError("train_ensemble needs seeds=[...], learning_rates=[...] and/or processes=[...]")
    n = len(next(iter(given.values())))
    lengths = {k: len(v) for k, v in given.items()}
    if n == 0 or len(set(lengths.values())) > 1:
        raise ConfigError(f"the member lists must be non-empty and equally long, got lengths {lengths}")
    seeds = list(seeds) if seeds is not None else [train_config.seed] * n
    lrs = list(learning_rates) if learning_rates is not None else [train_config.learning_rate] * n
    for s, lr in zip(seeds, lrs):  # validate each member as its own TrainConfig
        train_config.replace(seed=s, learning_rate=lr)
    if processes is not None:
        check_pool_members(processes)
    return Members(
        tuple(int(s) for s in seeds), tuple(float(lr) for lr in lrs), tuple(processes) if processes else None
    )


def train_ensemble(
    process,
    model_config: ModelConfig | None = None,
    train_config: TrainConfig | None = None,
    seeds=None,
    learning_rates=None,
    processes=None,
    checkpoint_dir=None,
    on_eval=None,
    progress: bool = True,
    mesh=None,
) -> EnsembleResult:
    """Train one member per seed / learning rate / process together; member i equals
    `train(result.member_process(i), model_config, result.member_config(i))` to float tolerance.

    `processes` (one per member, `markov_pool` processes sharing a vocabulary, e.g. different pool sizes): each
    member draws its batches from its own pool (padded to the largest, padding never drawn) and is evaluated on
    its own process; `process` may then be None.

    `on_eval(step, [metrics per member])`. Checkpoints hold every member (load one with
    `load_checkpoint(dir, member=i)`). A NaN/inf loss in any member stops the ensemble.
    """
    tc = train_config or TrainConfig()
    members = make_members(tc, seeds, learning_rates, processes)
    process = members.processes[0] if process is None and members.processes else process
    if process is None:
        raise ConfigError("train_ensemble needs a process, or processes=[...] (one per member)")
    mc = (model_config or ModelConfig()).for_vocab(process.vocab_size)
    program = Program(process, mc, tc, members=members, mesh=mesh)
    outcome = run(program, checkpoint_dir, on_eval, progress)
    models = [program.model(program.member_params(outcome.state, i)) for i in range(len(members))]
    return EnsembleResult(
        models,
        outcome.metrics,
        members,
        process=process,
        step=tc.num_steps,
        model_config=mc,
        train_config=tc,
        resumed_from=outcome.resumed_from,
        timing=outcome.timing,
    )
