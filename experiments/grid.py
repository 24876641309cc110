"""Sweep grids: `key=v1,v2` and `key=a..b` (inclusive integer range) expand to a product of overrides."""

import itertools

import yaml

from models.config import ConfigError

ALIASES = {
    "seed": "train.seed",
    "lr": "train.learning_rate",
    "learning_rate": "train.learning_rate",
    "pool_size": "process.params.num_chains",
    "process.pool_size": "process.params.num_chains",
}
VMAPPABLE = ("train.seed", "train.learning_rate")  # axes one compiled ensemble can cover
# ... and, when the process is a markov_pool, its pool (each member samples its own pool, padded to the largest)
POOL_VMAPPABLE = ("process.params.num_chains", "process.params.seed", "process.params.alpha")


def parse_axis(item: str) -> tuple[str, list]:
    """`"seed=0..4"` -> ("train.seed", [0, 1, 2, 3, 4]); `"model.n_layers=2,4"` -> (..., [2, 4])."""
    key, sep, values = item.partition("=")
    if not sep or not key or not values:
        raise ConfigError(f"sweep axis {item!r} must look like key=v1,v2 or key=a..b")
    key = ALIASES.get(key.strip(), key.strip())
    if ".." in values and "," not in values:
        low, _, high = values.partition("..")
        try:
            low, high = int(low), int(high)
        except ValueError:
            raise ConfigError(f"sweep axis {item!r}: a..b needs integers") from None
        if high < low:
            raise ConfigError(f"sweep axis {item!r}: empty range {low}..{high}")
        return key, list(range(low, high + 1))
    return key, [yaml.safe_load(v) for v in values.split(",")]


def expand(axes: list[str]) -> tuple[list[str], list[dict]]:
    """The axis keys and every grid point as `{key: value}` (product over axes, first axis slowest)."""
    parsed = [parse_axis(a) for a in axes]
    keys = [k for k, _ in parsed]
    if len(set(keys)) != len(keys):
        raise ConfigError(f"sweep axes repeat a key: {keys}")
    return keys, [dict(zip(keys, combo)) for combo in itertools.product(*(v for _, v in parsed))]


def vmappable_keys(process_name: str | None) -> tuple:
    """The axes one compiled ensemble can cover for points of this process."""
    return VMAPPABLE + (POOL_VMAPPABLE if process_name == "markov_pool" else ())


def group_for_ensembles(points: list[dict], process_name: str | None = None) -> list[list[dict]]:
    """Group grid points that differ only in vmappable keys (seed, learning rate; a markov_pool's pool size,
    seed and alpha): one compile each. `process_name`: the base config's, unless a point sets `process.name`."""
    groups: dict[tuple, list[dict]] = {}
    for point in points:
        vmappable = vmappable_keys(point.get("process.name", process_name))
        fixed = tuple(sorted((k, repr(v)) for k, v in point.items() if k not in vmappable))
        groups.setdefault(fixed, []).append(point)
    return list(groups.values())
