"""Orbax checkpoints that describe themselves: state arrays plus a JSON record of the configs,
process, keys, step and metrics so far. Saves are synchronous and atomic (written to a temporary
directory, then renamed), so a run killed at any point leaves only complete checkpoints.
"""

import dataclasses
import hashlib
import json
import logging
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp

from hmm.errors import LabError

FORMAT = "belieflab.models.checkpoint/1"


class _ReadOnlyNotices(logging.Filter):
    """Drops orbax's notices that a manager opened read-only is read-only (expected on every restore)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "read only" not in message and "read_only=True" not in message


logging.getLogger("absl").addFilter(_ReadOnlyNotices())


class CheckpointError(LabError, ValueError):
    """A checkpoint is unreadable, of another format, or from a different run."""


TMP_MARK = ".orbax-checkpoint-tmp"  # a save in progress (or killed): orbax ignores and later removes it


def library_message(err: Exception, limit: int = 300) -> str:
    """The first line of an orbax/TensorStore error, without the spec dump that follows it."""
    text = str(err).split("See full TensorStore details")[0].strip().splitlines()
    first = (text[0] if text else type(err).__name__).rstrip(" .")
    return first if len(first) <= limit else first[: limit - 3] + "..."


def foreign_entries(directory: Path, steps: list[int]) -> list[str]:
    """Entries of a checkpoint directory that are neither a step orbax lists nor a save in progress."""
    known = {str(step) for step in steps}
    return sorted(p.name for p in directory.iterdir() if p.name not in known and TMP_MARK not in p.name)


def process_record(process) -> dict:
    """Name, parameters, sizes and a fingerprint of the matrices (what a checkpoint must match); a data source
    without finite states (e.g. `hmm.DirichletMarkov`, a dataclass) is identified by its name and fields."""
    if not hasattr(process, "transition_matrices"):
        return {"name": process.name, "params": dataclasses.asdict(process), "vocab_size": process.vocab_size}
    digest = hashlib.sha256()
    for a in (process.transition_matrices, process.right_vector):
        digest.update(np.ascontiguousarray(np.asarray(a, np.float64)).tobytes())
    params = json.loads(json.dumps(dict(process.params)))  # a mixture's nested tuples read back as lists
    return {
        "name": process.name,
        "params": params,
        "vocab_size": process.vocab_size,
        "num_states": process.num_states,
        "fingerprint": digest.hexdigest(),
    }


def _differences(saved, wanted, path, ignore=()):
    if isinstance(saved, dict) and isinstance(wanted, dict):
        out = []
        for k in sorted(set(saved) | set(wanted)):
            if k not in ignore:
                out += _differences(saved.get(k, "<missing>"), wanted.get(k, "<missing>"), f"{path}.{k}")
        return out
    return [] if saved == wanted else [f"{path}: checkpoint has {saved!r}, this run has {wanted!r}"]


def check_compatible(meta: dict, identity: dict, ignore_train_fields=(), where: str = "") -> None:
    """The checkpoint's identity (configs, process, members) must equal this run's."""
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{where} is not a {FORMAT} checkpoint (format={meta.get('format')!r})")
    diffs = []
    for key, value in identity.items():
        ignore = ignore_train_fields if key == "train_config" else ()
        diffs += _differences(meta.get(key, "<missing>"), value, key, ignore)
    if diffs:
        raise CheckpointError(
            f"the checkpoint {where} belongs to a different run:\n  "
            + "\n  ".join(diffs)
            + "\nresume with the same configuration, or use another checkpoint directory"
        )


class Store:
    """One run's checkpoint directory; steps are subdirectories named by step number."""

    def __init__(self, directory, keep: int | None = None, read_only: bool = False):
        self.directory = Path(directory).absolute()
        if read_only and not self.directory.is_dir():
            raise CheckpointError(f"no checkpoint directory at {self.directory}")
        options = ocp.CheckpointManagerOptions(
            enable_async_checkpointing=False,
            create=not read_only,
            read_only=read_only,
            preservation_policy=ocp.checkpoint_managers.LatestN(n=keep),
        )
        self.manager = ocp.CheckpointManager(self.directory, options=options, item_names=("state", "meta"))

    def steps(self) -> list[int]:
        """The saved steps; any other entry (a stray or damaged file) is an error, never skipped silently."""
        self.manager.reload()  # another process may have written steps since this manager was opened
        steps = sorted(self.manager.all_steps())
        foreign = foreign_entries(self.directory, steps) if self.directory.is_dir() else []
        if foreign:
            what = "a file" if (self.directory / foreign[0]).is_file() else "not an orbax checkpoint step"
            raise CheckpointError(
                f"{self.directory / foreign[0]} is {what}: every entry of a checkpoint "
                f"directory must be a step saved by belieflab (steps found: {steps}); "
                f"move it out of {self.directory}"
            )
        return steps

    def save(self, step: int, state, meta: dict) -> None:
        args = ocp.args.Composite(state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta))
        self.manager.save(step, args=args, force=True)
        self.manager.wait_until_finished()

    def _where(self, step):
        return f"{self.directory / str(step)}"

    def read_meta(self, step: int) -> dict:
        try:
            meta = self.manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())).meta
        except Exception as e:  # orbax raises many types for damaged files
            raise CheckpointError(
                f"checkpoint {self._where(step)} is unreadable (metadata): {library_message(e)}"
            ) from e
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise CheckpointError(f"{self._where(step)} is not a {FORMAT} checkpoint")
        if meta.get("step") != step:
            raise CheckpointError(f"checkpoint {self._where(step)} records step {meta.get('step')}, not {step}")
        return meta

    def restore_state(self, step: int, abstract_state):
        """Arrays into the structure, shapes, dtypes and shardings of `abstract_state`."""
        try:
            restored = self.manager.restore(
                step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract_state))
            ).state
        except Exception as e:
            raise CheckpointError(
                f"checkpoint {self._where(step)} is damaged or does not fit this model/optimiser: {library_message(e)}"
            ) from e
        if jax.tree.structure(restored) != jax.tree.structure(abstract_state):
            raise CheckpointError(f"checkpoint {self._where(step)} has a different state structure")
        return restored

    def close(self) -> None:
        self.manager.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def list_checkpoints(directory) -> list[int]:
    """Steps with a complete checkpoint in `directory` (empty if there is none)."""
    if not Path(directory).is_dir():
        return []
    with Store(directory, read_only=True) as store:
        return store.steps()
