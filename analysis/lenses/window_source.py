"""Where a streamed lens's training windows come from: a corpus's token ids, or the model's own samples
(self-distillation: continuations of short corpus prompts drawn from the model at temperature 1)."""

from dataclasses import dataclass

import jax
import numpy as np

from analysis.lenses.inputs import LensInputError
from models.keys import jax_key, numpy_rng


@dataclass(frozen=True, eq=False)
class CorpusWindows:
    """`source(step) -> [count, window]` windows of `ids_N` at seeded random starts (fresh starts each step)."""

    ids_N: np.ndarray
    window: int
    count: int
    seed: int = 0

    def __post_init__(self):
        if len(self.ids_N) < self.window:
            raise LensInputError(
                f"the training text has {len(self.ids_N)} tokens: fewer than one window of {self.window}"
            )

    kind = "corpus"

    def __call__(self, step: int) -> np.ndarray:
        rng = numpy_rng(self.seed, "lens_windows", step)
        starts = rng.integers(0, len(self.ids_N) - self.window + 1, self.count)
        return np.asarray(self.ids_N)[starts[:, None] + np.arange(self.window)[None]].astype(np.int32)


@dataclass(frozen=True, eq=False)
class SampledWindows:
    """`source(step) -> [count, window]`: the first `prompt_tokens` ids of corpus windows, continued by the
    model's own samples at `temperature` (keys `fold_in(jax_key(seed, "lens_samples"), step)`)."""

    model: object
    prompts: CorpusWindows
    prompt_tokens: int = 4
    temperature: float = 1.0

    def __post_init__(self):
        if not 1 <= self.prompt_tokens < self.prompts.window:
            raise LensInputError(f"prompt_tokens={self.prompt_tokens} is invalid: in [1, window={self.prompts.window})")

    kind = "self"

    @property
    def window(self) -> int:
        return self.prompts.window

    def __call__(self, step: int) -> np.ndarray:
        from models.pretrained.generate import sample_continuations

        prompts = self.prompts(step)[:, : self.prompt_tokens]
        key = jax.random.fold_in(jax_key(self.prompts.seed, "lens_samples"), step)
        return sample_continuations(self.model, prompts, self.window, key, self.temperature)
