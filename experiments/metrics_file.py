"""Consistency of a run's metrics.jsonl: its evaluation steps must increase line by line."""

import json
from pathlib import Path

from hmm.errors import DamagedFileError


def check_steps_increase(path) -> None:
    """Raise `DamagedFileError` naming the first line whose step does not exceed the step before it (two runs
    wrote into one directory, or a file was pasted together). A torn last line (a killed run) is ignored."""
    path = Path(path)
    if not path.is_file():
        return
    previous = None
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        try:
            step = json.loads(line).get("step")
        except (ValueError, AttributeError):
            continue
        if step is None:
            continue
        if previous is not None and step <= previous[1]:
            raise DamagedFileError(
                f"{path}, line {number}: step {step} follows step {previous[1]} (line "
                f"{previous[0]}); steps must increase: two runs wrote into this directory? "
                f"Delete the run directory and run again"
            )
        previous = (number, step)
