"""The one atomic-writes module: every file a run writes goes through here (docs/design.md).

A write goes to a temporary file in the same folder, then a rename, so a killed run leaves no torn file.
`tempfile.mkstemp` creates files readable by their owner only (0600); the finished file gets the mode any
ordinary write would give it (0666 minus the umask), so colleagues on a shared machine can read a run.
"""

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

SCHEMA = "belieflab.analysis/1"


def default_file_mode() -> int:
    """0666 minus the process's umask (what `open(path, "w")` would create)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_file(path, mode: str = "wb"):
    """`with atomic_file(path) as handle:` write to a temporary file renamed to `path` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def atomic_write_bytes(path, data: bytes) -> None:
    with atomic_file(path) as handle:
        handle.write(data)


def atomic_write_text(path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def append_jsonl(path, record: dict) -> None:
    """Append one JSON line and flush it to disk (a killed run keeps every completed line)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(record, default=float) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_jsonl(path) -> list[dict]:
    """Every complete line of a JSON-lines file (a torn last line from a kill is ignored)."""
    path = Path(path)
    if not path.is_file():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
