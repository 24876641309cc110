"""Named processes: `get_process(name, **params)` with parameter ranges checked, `list_processes()`."""

import math
from collections.abc import Callable
from dataclasses import dataclass

from hmm.errors import ProcessError
from hmm.process import Process


@dataclass(frozen=True)
class Param:
    """One parameter: default and allowed interval (open or closed at each end), float or int."""

    default: float
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    integer: bool = False

    def describe(self) -> str:
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        kind = "integer " if self.integer else ""
        return f"{kind}in {left}{self.low}, {self.high}{right}"

    def check(self, process: str, name: str, value) -> float | int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ProcessError(f"{process}: parameter {name}={value!r} must be a number, {self.describe()}")
        if self.integer and value != int(value):
            raise ProcessError(f"{process}: parameter {name}={value!r} must be an integer, {self.describe()}")
        below = value <= self.low if self.low_open else value < self.low
        above = value >= self.high if self.high_open else value > self.high
        if below or above or math.isnan(value):
            raise ProcessError(f"{process}: parameter {name}={value!r} is out of range; allowed {self.describe()}")
        return int(value) if self.integer else float(value)


@dataclass(frozen=True)
class Entry:
    builder: Callable[..., Process]
    params: dict[str, Param]
    summary: str


_REGISTRY: dict[str, Entry] = {}


def register(name: str, summary: str, **params: Param):
    """Decorator: add a builder `f(**params) -> Process` to the registry under `name`."""

    def add(builder):
        _REGISTRY[name] = Entry(builder, params, summary)
        return builder

    return add


def registered_params(name: str) -> tuple[str, ...]:
    """The parameter names of a registered process in their declared order (empty for other processes)."""
    entry = _REGISTRY.get(name.replace("-", "_"))
    return tuple(entry.params) if entry else ()


def list_processes() -> dict[str, str]:
    """Every registered name with a one-line summary and its parameters (default, range)."""
    return {
        name: entry.summary + "".join(f"; {k}={p.default} {p.describe()}" for k, p in entry.params.items())
        for name, entry in sorted(_REGISTRY.items())
    }


def _entry(name: str, extra_names: tuple = ()) -> Entry:
    entry = _REGISTRY.get(name.replace("-", "_")) if isinstance(name, str) else None
    if entry is None:
        raise ProcessError(f"unknown process {name!r}; valid names: {', '.join(sorted((*_REGISTRY, *extra_names)))}")
    return entry


def param_specs(name: str, extra_names: tuple = ()) -> dict[str, Param]:
    """The parameters of a registered process; an unknown name lists the valid ones (and `extra_names`)."""
    return _entry(name, extra_names).params


def build_checked(name: str, values: dict) -> Process:
    """Build a registered process from parameters already checked (every one given)."""
    return _entry(name).builder(**values)


def get_process(name: str, **params) -> Process:
    """Build the named process; unknown names and parameters get errors that list what is valid."""
    entry = _entry(name)
    unknown = sorted(set(params) - set(entry.params))
    if unknown:
        valid = ", ".join(f"{k} ({p.describe()}, default {p.default})" for k, p in entry.params.items())
        raise ProcessError(f"{name}: unknown parameter(s) {', '.join(unknown)}; valid: {valid or 'none'}")
    values = {k: spec.check(name, k, params.get(k, spec.default)) for k, spec in entry.params.items()}
    return entry.builder(**values)
