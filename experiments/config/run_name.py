"""Run names derived from the overrides that change what is trained, so that two different trainings never
share (and refuse) one checkpoint directory."""

import re

from models.config import TrainConfig

UNSAFE = re.compile(r"[^A-Za-z0-9._=,+-]+")


def changes_training(key: str) -> bool:
    """Whether overriding `key` (`section.field...`) changes the trained parameters: every `model.*` and
    `process.*` field and the `train.*` fields a checkpoint refuses to resume with."""
    section, _, field = key.strip().partition(".")
    return section in ("model", "process") or (section == "train" and field not in TrainConfig.RESUMABLE_CHANGES)


def derived_run_name(base: str, overrides) -> str:
    """`base` plus the training-changing `key=value` overrides, e.g. ("rrxor", ["train.num_steps=2000",
    "model.n_layers=2"]) -> "rrxor-num_steps=2000-n_layers=2" (the last key part, or the whole key where two
    share it; filesystem-safe). `base` itself when no override changes training or a `name=` is given."""
    pairs = [(key.strip(), value.strip()) for key, _, value in (o.partition("=") for o in overrides)]
    if any(key == "name" for key, _ in pairs):
        return base
    picked = [(key, value) for key, value in pairs if changes_training(key)]
    leaves = [key.rsplit(".", 1)[-1] for key, _ in picked]
    parts = [f"{leaf if leaves.count(leaf) == 1 else key}={value}" for (key, value), leaf in zip(picked, leaves)]
    return "-".join([base] + [UNSAFE.sub("_", p) for p in parts])


def _flat(values: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in values.items():
        if isinstance(value, dict) and value:
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def name_for_changes(base: str, saved: dict, wanted: dict) -> str:
    """A run name for config `wanted` (a plain dict) beside the run of config `saved`: `base` plus the
    training-changing fields that differ, as `derived_run_name` writes them."""
    old, new = _flat(saved), _flat(wanted)
    changed = [f"{key}={new.get(key)}" for key in new if changes_training(key) and old.get(key) != new.get(key)]
    return derived_run_name(base, changed)
