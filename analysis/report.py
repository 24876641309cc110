"""`analysis.json`: plain JSON types only (NaN becomes null), written atomically (temporary file, then rename)."""

import json
import math
from pathlib import Path

import numpy as np

from analysis.atomic import atomic_file

SCHEMA = "belieflab.analysis/1"


def plain(obj):
    """`obj` with NumPy scalars/arrays, tuples and paths turned into JSON types, and NaN/inf into None."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return plain(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json(path, obj) -> Path:
    """Write `plain(obj)` to `path` atomically (readers never see a partial file)."""
    path = Path(path)
    with atomic_file(path, "w") as handle:
        json.dump(plain(obj), handle, indent=1, allow_nan=False)
        handle.write("\n")
    return path
