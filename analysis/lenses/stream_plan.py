"""How much text a streamed lens reads, in tokens, and how it is cut into steps, forward passes and evaluations."""

from dataclasses import dataclass

from analysis.lenses.inputs import LensInputError

PUBLISHED_STEPS, PUBLISHED_TOKENS_PER_STEP, PUBLISHED_WINDOW = 250, 2**18, 2048


@dataclass(frozen=True)
class StreamPlan:
    """A token budget for streamed lens training.

    Each step reads `windows_per_step` windows of `window` tokens (`tokens_per_step`), run through the model in
    `micro_batches` forward passes whose gradients are summed before one update; `steps = tokens //
    tokens_per_step`. Held-out KL is measured `curve_points` times at evenly spaced token counts (and once
    before training: the untrained tuned lens is the logit lens). The default fits about 10 minutes on 2 CPU
    cores for SmolLM2-135M with the full 49k-token readout; `StreamPlan.published()` is the published budget
    (250 steps of 2^18 tokens), for an accelerator.
    """

    tokens: int = 6144
    window: int = 128
    windows_per_step: int = 4
    micro_batches: int = 1
    curve_points: int = 4

    def __post_init__(self):
        for name in ("tokens", "window", "windows_per_step", "micro_batches", "curve_points"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (2 if name == "window" else 1):
                raise LensInputError(f"{name}={value!r} is invalid: an integer >= {2 if name == 'window' else 1}")
        if self.windows_per_step % self.micro_batches:
            raise LensInputError(
                f"micro_batches={self.micro_batches} is invalid: must divide windows_per_step={self.windows_per_step}"
            )
        if self.tokens < self.tokens_per_step:
            raise LensInputError(
                f"tokens={self.tokens} is invalid: at least one step of {self.tokens_per_step} "
                f"tokens (windows_per_step x window)"
            )

    @classmethod
    def published(cls, window: int = PUBLISHED_WINDOW, micro_batches: int = 32) -> "StreamPlan":
        """250 steps of 2^18 tokens (the published tuned-lens budget)."""
        return cls(
            tokens=PUBLISHED_STEPS * PUBLISHED_TOKENS_PER_STEP,
            window=window,
            windows_per_step=PUBLISHED_TOKENS_PER_STEP // window,
            micro_batches=micro_batches,
            curve_points=10,
        )

    @property
    def tokens_per_step(self) -> int:
        return self.window * self.windows_per_step

    @property
    def steps(self) -> int:
        return self.tokens // self.tokens_per_step

    def curve_steps(self) -> list[int]:
        """Steps after which held-out KL is measured: 0 (before training), then evenly spaced, ending at the last."""
        points = min(self.curve_points, self.steps)
        return sorted({0} | {round(self.steps * k / points) for k in range(1, points + 1)})
