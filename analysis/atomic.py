"""Atomic file writes (a temporary file in the same folder, then a rename) with the usual permissions.

`tempfile.mkstemp` creates files readable by their owner only (0600); the finished file gets the mode any
ordinary write would give it (0666 minus the umask), so colleagues on a shared machine can read a run.
"""

import contextlib
import os
import tempfile
from pathlib import Path


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
