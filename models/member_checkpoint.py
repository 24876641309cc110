"""Each member of an ensemble checkpoint written as the checkpoint of a run of its own, so that its run
directory loads, analyses and resumes exactly as a solo run's does."""

import jax

from models.checkpoint import CheckpointError, Store
from models.config import ModelConfig, TrainConfig
from models.train_step import abstract_state


def member_meta(meta: dict, i: int) -> dict:
    """The metadata a solo run of member i would have written at the same step."""
    members = meta["members"]
    loss_log = meta["loss_log"]
    train_config = TrainConfig.from_dict(meta["train_config"]).replace(
        seed=members["seeds"][i], learning_rate=members["learning_rates"][i]
    )
    return {
        **meta,
        "train_config": train_config.to_dict(),
        "process": members["processes"][i] if "processes" in members else meta["process"],
        "members": None,
        "keys": meta["keys"][i],
        "metrics": [meta["metrics"][i]],
        "train_loss_sum": [meta["train_loss_sum"][i]],
        "loss_log": {"sums": [loss_log["sums"][i]], "count": loss_log["count"], "points": [loss_log["points"][i]]},
    }


def save_member_checkpoints(ensemble_dir, member_dirs) -> int:
    """Write member i of the latest checkpoint in `ensemble_dir` to `member_dirs[i]` (parameters, optimiser
    state and metadata of a solo run); returns the step. A member directory already holding that step is kept."""
    with Store(ensemble_dir, read_only=True) as store:
        steps = store.steps()
        if not steps:
            raise CheckpointError(f"no checkpoints in {store.directory}")
        step = steps[-1]
        meta = store.read_meta(step)
        if not meta.get("members") or len(meta["members"]["seeds"]) != len(member_dirs):
            raise CheckpointError(f"{store.directory} does not hold an ensemble of {len(member_dirs)} members")
        mc, tc = ModelConfig.from_dict(meta["model_config"]), TrainConfig.from_dict(meta["train_config"])
        device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
        state = store.restore_state(step, abstract_state(mc, tc, len(member_dirs), device))
    for i, directory in enumerate(member_dirs):
        with Store(directory) as member_store:
            if step in member_store.steps():  # written from this checkpoint by an earlier call (a rerun)
                continue
            member_store.save(step, jax.tree.map(lambda a, i=i: a[i], state), member_meta(meta, i))
    return step
