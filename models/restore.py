"""Load a trained model from a checkpoint directory (for analysis at every checkpoint)."""

from dataclasses import dataclass

import jax

from models.checkpoint import CheckpointError, Store
from models.config import ModelConfig, TrainConfig
from models.program import Members
from models.train_step import abstract_state, graphdef_of, merge
from models.transformer import Transformer


@dataclass
class Checkpoint:
    """A model restored at `step`, with the configs and metrics (up to that step) that produced it."""

    model: Transformer
    step: int
    model_config: ModelConfig
    train_config: TrainConfig
    process: dict
    metrics: list
    member: int | None = None


def load_checkpoint(checkpoint_dir, step: int | None = None, member: int | None = None) -> Checkpoint:
    """The model at `step` (default: the latest). Ensemble checkpoints need `member`."""
    with Store(checkpoint_dir, read_only=True) as store:
        steps = store.steps()
        if not steps:
            raise CheckpointError(f"no checkpoints in {store.directory}")
        step = steps[-1] if step is None else step
        if step not in steps:
            raise CheckpointError(f"no checkpoint for step {step} in {store.directory}; steps: {steps}")
        meta = store.read_meta(step)
        mc, tc = ModelConfig.from_dict(meta["model_config"]), TrainConfig.from_dict(meta["train_config"])
        members = Members(**meta["members"]) if meta.get("members") else None
        if (members is None) != (member is None):
            raise CheckpointError(
                f"{store.directory} holds an ensemble of {len(members)} members: pass member=0..{len(members) - 1}"
                if members
                else f"{store.directory} holds a single run; member must be None"
            )
        if members and not 0 <= member < len(members):
            raise CheckpointError(f"member={member} is out of range: the ensemble has {len(members)} members")
        device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
        abstract = abstract_state(mc, tc, len(members) if members else None, device)
        state = store.restore_state(step, abstract)
    params = jax.tree.map(lambda a: a[member], state.params) if members else state.params
    metrics = meta["metrics"][member] if members else meta["metrics"][0]
    process = members.processes[member] if members and members.processes else meta["process"]
    return Checkpoint(merge(graphdef_of(mc), params), step, mc, tc, process, metrics, member)
