"""The one validated config tree: dataclass sections, YAML overrides, and the shipped configs.

The names below load lazily, so `belieflab --help` (which reads `experiments.config.shipped`) imports no JAX.
"""

import importlib

__all__ = [
    "AnalysisConfig",
    "ExperimentConfig",
    "ProcessConfig",
    "from_dict",
    "load_config",
    "resolve_process",
    "save_config",
]


def __getattr__(name: str):
    if name in __all__:
        return getattr(importlib.import_module("experiments.config.experiment"), name)
    raise AttributeError(f"module 'experiments.config' has no attribute {name!r}")
