"""One line per stage of a run on stderr (beside the progress bars): what starts, and its time when done."""

import contextlib
import sys
import time


def say(text: str, enabled: bool = True) -> None:
    if enabled:
        print(text, file=sys.stderr, flush=True)


@contextlib.contextmanager
def stage(name: str, enabled: bool = True):
    """`with stage("figures", progress):` prints `figures ...` then `figures: done in 3.2 s`."""
    say(f"{name} ...", enabled)
    start = time.perf_counter()
    yield
    say(f"{name}: done in {time.perf_counter() - start:.1f} s", enabled)


def resume_line(steps: list[int], num_steps: int, checkpoint_dir) -> str:
    """What a run with existing checkpoints is about to do."""
    last = steps[-1]
    if last >= num_steps:
        return f"training already finished (step {last:,} in {checkpoint_dir}); redoing analysis, figures and report"
    return f"resuming training from the checkpoint of step {last:,} of {num_steps:,} in {checkpoint_dir}"
