"""The `lens:` config section: which lenses run after training, and the tuned-lens recipe."""

from dataclasses import dataclass

from analysis.lenses.inputs import LensInputError
from analysis.lenses.predictive import MAX_HORIZON
from analysis.lenses.recipe import Recipe
from models.config import ConfigError

SITE_SETS = ("residual", "resid_post")


@dataclass(frozen=True)
class LensConfig:
    """Lenses on the final model (`belieflab run` and `belieflab lens`).

    `enabled: false` skips the stage. `sites`: "residual" (every distinct residual state but `ln_final`),
    "resid_post" or a list of site names. Parts: `tuned`, `shared`, `transfer` (tuned-lens transfer matrix),
    `belief`, `future` (for `horizons` N in 0..3), `untrained_control`, `figures`. Recipe of the tuned and
    shared lenses: `optimizer` ("sgd": Nesterov; or "adam"), `learning_rate`, `momentum`, `weight_decay`
    (coupled), `grad_clip`, `steps`, `batch_size`; the future lens trains with Adam for `future_steps` at
    `future_learning_rate`. `heldout_fraction` of the prefixes are held out for every reported number.
    """

    enabled: bool = True
    sites: str | tuple = "residual"
    heldout_fraction: float = 0.2
    tuned: bool = True
    shared: bool = True
    transfer: bool = True
    belief: bool = True
    future: bool = True
    horizons: tuple = (0, 1, 2, 3)
    untrained_control: bool = True
    figures: bool = True
    optimizer: str = "sgd"
    learning_rate: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-3
    grad_clip: float = 1.0
    steps: int = 250
    batch_size: int = 512
    future_steps: int = 400
    future_learning_rate: float = 0.05

    def __post_init__(self):
        if isinstance(self.sites, str) and self.sites not in SITE_SETS:
            raise ConfigError(
                f"LensConfig.sites={self.sites!r} is invalid: one of {list(SITE_SETS)} or a list of site names"
            )
        if not 0.0 < self.heldout_fraction < 1.0:
            raise ConfigError(f"LensConfig.heldout_fraction={self.heldout_fraction} is invalid: must be in (0, 1)")
        bad = [n for n in self.horizons if not isinstance(n, int) or not 0 <= n <= MAX_HORIZON]
        if not self.horizons or bad:
            raise ConfigError(
                f"LensConfig.horizons={list(self.horizons)} is invalid: a non-empty list of N in 0..{MAX_HORIZON}"
            )
        for name in ("future_steps",):
            if getattr(self, name) < 1:
                raise ConfigError(f"LensConfig.{name}={getattr(self, name)} is invalid: must be >= 1")
        if not self.future_learning_rate > 0:
            raise ConfigError(f"LensConfig.future_learning_rate={self.future_learning_rate} is invalid: must be > 0")
        try:
            self.recipe(0)
        except LensInputError as err:
            raise ConfigError(f"LensConfig.{err}") from None

    def recipe(self, seed: int) -> Recipe:
        return Recipe(
            optimizer=self.optimizer,
            learning_rate=self.learning_rate,
            momentum=self.momentum,
            weight_decay=self.weight_decay,
            grad_clip=self.grad_clip,
            steps=self.steps,
            batch_size=self.batch_size,
            seed=seed,
        )

    def future_recipe(self, seed: int) -> Recipe:
        return Recipe(
            optimizer="adam",
            learning_rate=self.future_learning_rate,
            weight_decay=0.0,
            steps=self.future_steps,
            batch_size=self.batch_size,
            seed=seed,
        )
