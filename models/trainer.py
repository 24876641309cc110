"""`train`: one model on one process, on every device of the data mesh, resumable from checkpoints."""

from dataclasses import dataclass, field

from models.config import ModelConfig, TrainConfig
from models.loop import run
from models.program import Program
from models.transformer import Transformer


@dataclass(kw_only=True)
class RunRecord:
    """What every training call reports beside its models: the final step, both configs, the step it
    resumed from (None for a fresh run) and wall-clock timing of this call."""

    step: int
    model_config: ModelConfig
    train_config: TrainConfig
    resumed_from: int | None = None
    timing: dict = field(default_factory=dict)


@dataclass
class TrainResult(RunRecord):
    """The trained model and one metrics dict per evaluation (slash-namespaced keys)."""

    model: Transformer
    metrics: list

    @property
    def final_metrics(self) -> dict:
        return self.metrics[-1]


def train(
    process,
    model_config: ModelConfig | None = None,
    train_config: TrainConfig | None = None,
    checkpoint_dir=None,
    on_eval=None,
    progress: bool = True,
    mesh=None,
) -> TrainResult:
    """Train a `Transformer` on batches sampled on device from `process`.

    If `checkpoint_dir` holds checkpoints, the run continues from the latest (its configs and
    process must match; evaluations after that checkpoint are recomputed and reported again to
    `on_eval(step, metrics)`). Raises `TrainingDiverged` on a NaN/inf loss. `mesh` defaults to a
    data-parallel mesh over all devices.
    """
    mc = (model_config or ModelConfig()).for_vocab(process.vocab_size)
    tc = train_config or TrainConfig()
    program = Program(process, mc, tc, members=None, mesh=mesh)
    outcome = run(program, checkpoint_dir, on_eval, progress)
    return TrainResult(
        program.model(outcome.state.params),
        outcome.metrics[0],
        step=tc.num_steps,
        model_config=mc,
        train_config=tc,
        resumed_from=outcome.resumed_from,
        timing=outcome.timing,
    )
