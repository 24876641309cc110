"""Custom processes from files: YAML/JSON with nested lists, or .npz arrays."""

import json
from pathlib import Path

import numpy as np
import yaml

from hmm.errors import ProcessError
from hmm.process import from_matrices

MATRIX_KEYS = ("transition_matrices", "T")


def _read(path: Path) -> dict:
    suffix = path.suffix.lower()
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        text = path.read_text()
        if suffix == ".json":
            return json.loads(text)
        if suffix in (".yaml", ".yml"):
            return yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as err:
        raise ProcessError(f"cannot read process file {path}: {err}") from None
    raise ProcessError(f"process file {path} must end in .yaml, .yml, .json or .npz, not {suffix!r}")


def load_process(path):
    """Load `transition_matrices` (or `T`), optional `w`, optional `name` from a file; validate as usual."""
    path = Path(path)
    if not path.is_file():
        raise ProcessError(f"process file {path} does not exist")
    data = _read(path)
    if not isinstance(data, dict):
        raise ProcessError(f"process file {path} must hold a mapping with key 'transition_matrices'")
    key = next((k for k in MATRIX_KEYS if k in data), None)
    if key is None:
        raise ProcessError(f"process file {path} has no 'transition_matrices' (or 'T'); keys: {sorted(data)}")
    name = str(data["name"]) if "name" in data else path.stem
    return from_matrices(data[key], data.get("w"), name=name)
