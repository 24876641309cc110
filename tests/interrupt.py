"""A stand-in for a kill at an evaluation: an `on_eval` callback that raises at one step."""


class Crash(Exception):
    """Raised by `crash_at`'s callback."""


def crash_at(step: int):
    """An `on_eval(step, metrics)` callback that raises `Crash` when evaluation `step` is reported."""

    def on_eval(at, _metrics):
        if at == step:
            raise Crash

    return on_eval
