"""`config.ladder`: the referee's ladder — the token-history baselines, the prediction-only ceiling and the referee's held-out R²."""

from dataclasses import dataclass

from models.config import ConfigError

WEIGHTINGS = ("prob", "uniform", "paper")
DEFAULT_RCOND_GRID = (1e-6, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)  # analysis.ladder.nested_cv.RCOND_GRID


@dataclass(frozen=True)
class LadderConfig:
    """`enabled`: run the stage. `max_k`: longest token history of the baselines (None: the context).
    `fold_seeds`: fold assignments (stratified by belief state) averaged over; `rcond_grid`: values the nested
    cross-validation chooses `rcond` from. `weightings`: each measured side by side. `concat_max_cost`: the
    concatenation of all sites joins the referee's fits while prefixes x columns² stays below it.
    `pairs`: separate belief pairs sharing a next-token distribution per site. `geometry_length`: prefix
    length of the one-length geometry figure (None: the longest)."""

    enabled: bool = True
    max_k: int | None = None
    fold_seeds: int = 5
    rcond_grid: tuple = DEFAULT_RCOND_GRID
    weightings: tuple = ("prob", "uniform")
    leave_belief_state_out: bool = True
    pairs: bool = True
    concat_max_cost: float = 5e9
    geometry_length: int | None = None

    def __post_init__(self):
        if self.max_k is not None and self.max_k < 1:
            raise ConfigError(f"LadderConfig.max_k={self.max_k} is invalid: must be >= 1 (or null: the context)")
        if self.fold_seeds < 1:
            raise ConfigError(f"LadderConfig.fold_seeds={self.fold_seeds} is invalid: must be >= 1")
        if not self.rcond_grid or not all(isinstance(r, (int, float)) and 0 < r < 1 for r in self.rcond_grid):
            raise ConfigError(
                f"LadderConfig.rcond_grid={list(self.rcond_grid)} is invalid: a non-empty list of numbers in (0, 1)"
            )
        bad = [w for w in self.weightings if w not in WEIGHTINGS]
        if not self.weightings or bad:
            raise ConfigError(
                f"LadderConfig.weightings={list(self.weightings)} is invalid: a non-empty list of {list(WEIGHTINGS)}"
            )
        if self.concat_max_cost < 0:
            raise ConfigError(f"LadderConfig.concat_max_cost={self.concat_max_cost} is invalid: must be >= 0")
        if self.geometry_length is not None and self.geometry_length < 1:
            raise ConfigError(
                f"LadderConfig.geometry_length={self.geometry_length} is invalid: must be >= 1 (or null: the longest)"
            )


BaselinesConfig = LadderConfig  # the section's name before it became `ladder`; kept for one release
