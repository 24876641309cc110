"""Data parallelism: a 1-D mesh over all devices, batches sharded along it, parameters replicated.

The same program runs on one CPU, several GPUs or a TPU slice. For several hosts, call
`jax.distributed.initialize()` (see `initialize_distributed`) before building the mesh; every host
then runs the same `train` call and samples only its own part of each batch.
"""

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from hmm.errors import LabError

AXIS = "data"


class ShardingError(LabError, ValueError):
    """The batch cannot be split evenly over the devices."""


def data_mesh(devices=None) -> Mesh:
    """A mesh with one axis, `data`, over `devices` (default: every device of every host)."""
    devices = jax.devices() if devices is None else list(devices)
    return Mesh(np.asarray(devices), (AXIS,))


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """Leading (batch) axis split over the devices."""
    return NamedSharding(mesh, P(AXIS))


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P())


def check_batch(batch_size: int, mesh: Mesh) -> None:
    """A batch that does not divide the device count is an error, never silently padded."""
    n = mesh.devices.size
    if batch_size % n:
        raise ShardingError(
            f"TrainConfig.batch_size={batch_size} does not divide over {n} devices; "
            f"use a multiple of {n} (e.g. {-(-batch_size // n) * n})"
        )


def place(x, sharding: NamedSharding):
    """A host array (identical on every host) as a global array with `sharding`."""
    x = np.asarray(x)
    return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])


def is_main_process() -> bool:
    """Whether this host writes progress and calls back (host 0)."""
    return jax.process_index() == 0


def initialize_distributed(**kwargs) -> None:
    """Join a multi-host job (`jax.distributed.initialize`); call once, before anything else in JAX."""
    jax.distributed.initialize(**kwargs)
