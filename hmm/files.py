"""Custom processes from files: YAML/JSON with nested lists, or .npz arrays."""

import json
from pathlib import Path

import numpy as np
import yaml

from hmm.errors import ProcessError
from hmm.process import from_matrices

MATRIX_KEYS = ("transition_matrices", "T")


ACCEPTED = "accepted: .yaml/.yml/.json with nested lists, or .npz (numpy.savez) arrays"
PICKLE_PROTOCOL = b"\x80"  # the first byte of every pickle of protocol 2 or later
ZIP_MAGIC = b"PK\x03\x04"  # .npz files are zip archives


def _kind_error(path: Path, head: bytes) -> str | None:
    """Why the file cannot be a process file of its suffix (pickles are never loaded: they can run code)."""
    suffix = path.suffix.lower()
    if head[:1] == PICKLE_PROTOCOL or suffix in (".pkl", ".pickle"):
        return f"process file {path} is a Python pickle, which is never loaded (it can run code); {ACCEPTED}"
    if suffix not in (".npz", ".json", ".yaml", ".yml"):
        return f"process file {path} must end in .yaml, .yml, .json or .npz, not {suffix!r}; {ACCEPTED}"
    if suffix == ".npz" and head[:4] != ZIP_MAGIC:
        return f"process file {path} is not an .npz archive (no zip header); {ACCEPTED}"
    return None


def _read(path: Path) -> dict:
    suffix = path.suffix.lower()
    with open(path, "rb") as f:
        problem = _kind_error(path, f.read(4))
    if problem:
        raise ProcessError(problem)
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        text = path.read_text()
        return json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except UnicodeDecodeError:
        raise ProcessError(f"process file {path} is not a text file; {ACCEPTED}") from None
    except ValueError as err:
        if "allow_pickle" not in str(err):
            raise ProcessError(f"cannot read process file {path}: {str(err).splitlines()[0]}; {ACCEPTED}") from None
        raise ProcessError(
            f"process file {path} holds an object array (stored as a pickle, never loaded); "
            f"save plain numeric arrays; {ACCEPTED}"
        ) from None
    except (OSError, yaml.YAMLError) as err:
        raise ProcessError(f"cannot read process file {path}: {str(err).splitlines()[0]}; {ACCEPTED}") from None


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
