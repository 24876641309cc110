"""One writer per run directory: an exclusive lock file holding the writer's pid and host."""

import contextlib
import json
import os
import socket
import time
from pathlib import Path

from experiments.progress import say
from hmm.errors import RunInUseError

LOCK_NAME = ".belieflab.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holder(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _describe(holder: dict) -> str:
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder["since"])) if "since" in holder else "?"
    return f"pid {holder.get('pid', '?')} on {holder.get('host', '?')} ({holder.get('command', '?')}, since {since})"


def _try_create(path: Path, record: dict) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        json.dump(record, f)
    return True


@contextlib.contextmanager
def run_lock(run_dir, command: str = "belieflab", progress: bool = True):
    """`with run_lock(run_dir, "run"):` hold the run directory's lock; a second holder is refused with a
    `RunInUseError` naming the first. A lock left by a dead process on this host is taken over (and said so).
    Re-entrant within one process (a command that calls another stage keeps its lock)."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / LOCK_NAME
    me = {"pid": os.getpid(), "host": socket.gethostname(), "command": command, "since": time.time()}
    held_here = False
    while not _try_create(path, me):
        holder = _holder(path)
        if holder.get("pid") == me["pid"] and holder.get("host") == me["host"]:
            held_here = True  # this process holds it already
            break
        if holder.get("host") == me["host"] and isinstance(holder.get("pid"), int) and not _alive(holder["pid"]):
            say(f"{run_dir}: taking over the stale lock of {_describe(holder)}, which is no longer running", progress)
            path.unlink(missing_ok=True)
            continue
        raise RunInUseError(
            f"{run_dir} is in use by {_describe(holder)}: wait for it to finish"
            f" (or delete {path} if that process is gone)"
        )
    try:
        yield path
    finally:
        if not held_here and _holder(path).get("pid") == me["pid"]:
            path.unlink(missing_ok=True)
