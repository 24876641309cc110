"""Check, before any work, that a directory the lab will write into can be made and written."""

import os
from pathlib import Path

from hmm.errors import UnwritableError


def check_writable(directory, what: str = "output directory") -> Path:
    """Raise `UnwritableError` (one line: the path and why) unless `directory` exists as a writable directory or
    can be created (its nearest existing ancestor is a writable directory). Existing subdirectories the lab
    writes into (`figures/`, `checkpoints/`) are checked too. Returns `directory` as a Path.

    Permission is judged with `os.access` (root passes every permission bit, so an unwritable directory only
    shows for ordinary users); a file where a directory is needed fails for everyone."""
    directory = Path(directory)
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise UnwritableError(f"{what} {directory} cannot be written: {existing} is a file, not a directory")
    for path in [existing] + [directory / sub for sub in ("figures", "checkpoints") if (directory / sub).exists()]:
        if not path.is_dir():
            raise UnwritableError(f"{what} {directory} cannot be written: {path} is a file, not a directory")
        if not os.access(path, os.W_OK | os.X_OK):
            why = (
                f"{path} is not writable"
                if path != existing or existing == directory
                else f"it does not exist and its parent {path} is not writable"
            )
            raise UnwritableError(f"{what} {directory} cannot be written: {why} by this user (permission denied)")
    return directory
