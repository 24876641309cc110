"""The tuned-lens training recipe and its optax optimiser."""

from dataclasses import dataclass

import optax

from analysis.lenses.inputs import LensInputError

OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True)
class Recipe:
    """How translators are trained. Default: the published tuned-lens recipe (SGD, Nesterov momentum 0.9,
    lr 0.1, coupled weight decay 1e-3, global-norm clip 1, linear decay to 0, no warm-up).

    `batch_size` rows per step are drawn with probability proportional to the row weights, so the mean loss
    over a batch estimates the weighted loss. `sites_per_program`: how many per-site translators train
    together in one vmapped program (None: all; lower it when `sites x batch_size x V` floats do not fit).
    `eval_batch_size`: rows per evaluation batch (memory is bounded by `sites x eval_batch_size x V`).
    """

    optimizer: str = "sgd"
    learning_rate: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-3
    grad_clip: float = 1.0
    steps: int = 250
    batch_size: int = 512
    sites_per_program: int | None = None
    eval_batch_size: int = 4096
    seed: int = 0

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise LensInputError(f"optimizer={self.optimizer!r} is invalid: one of {list(OPTIMIZERS)}")
        for name in ("learning_rate", "grad_clip"):
            if not getattr(self, name) > 0:
                raise LensInputError(f"{name}={getattr(self, name)} is invalid: must be > 0")
        if not 0 <= self.momentum < 1:
            raise LensInputError(f"momentum={self.momentum} is invalid: must be in [0, 1)")
        if self.weight_decay < 0:
            raise LensInputError(f"weight_decay={self.weight_decay} is invalid: must be >= 0")
        for name in ("steps", "batch_size", "eval_batch_size"):
            if int(getattr(self, name)) < 1:
                raise LensInputError(f"{name}={getattr(self, name)} is invalid: must be >= 1")
        if self.sites_per_program is not None and self.sites_per_program < 1:
            raise LensInputError(f"sites_per_program={self.sites_per_program} is invalid: None or >= 1")

    def optax(self) -> optax.GradientTransformation:
        """Clip by global norm, add coupled weight decay, then SGD-Nesterov (or Adam) with linear decay to 0."""
        schedule = optax.linear_schedule(self.learning_rate, 0.0, self.steps)
        if self.optimizer == "sgd":
            step = optax.sgd(schedule, momentum=self.momentum or None, nesterov=self.momentum > 0)
        else:
            step = optax.adam(schedule)
        return optax.chain(
            optax.clip_by_global_norm(self.grad_clip), optax.add_decayed_weights(self.weight_decay), step
        )
