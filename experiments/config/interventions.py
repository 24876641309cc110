"""The opt-in `interventions:` section of an experiment config (activation patching and belief steering)."""

import math
import re
from dataclasses import dataclass

from models.config import ConfigError

SITE_PATTERN = re.compile(r"^(embed|ln_final|blocks\.(\d+)\.resid_(pre|mid|post))$")
MODES = ("last", "all")


def _fail(name: str, value, allowed: str):
    raise ConfigError(f"config.interventions.{name}={value!r} is invalid: {allowed}")


@dataclass(frozen=True)
class InterventionsConfig:
    """`enabled`: run patching and steering after the regression (off by default).

    `sites`: "residual" (every distinct residual state) or a list of residual site names. `num_pairs`: base/donor
    pairs of the patching curve (also the pool steering draws from); `carry_pairs`: pairs sharing a next-token
    distribution, patched at t and read later; `steering_pairs`: prefixes steered per site (0 turns a part off).
    `modes`: patch the last position and/or every position up to it. `target_belief`: steer every prefix to this
    belief (default: to its donor's belief). `prior_shift`: for a mixture, also steer the component posterior's
    log-odds at the last site and compare with the Bayes filter under the shifted prior (off by default).
    """

    enabled: bool = False
    sites: str | tuple = "residual"
    num_pairs: int = 2000
    carry_pairs: int = 1000
    steering_pairs: int = 1000
    modes: tuple = MODES
    target_belief: tuple | None = None
    prior_shift: bool = False

    def __post_init__(self):
        if isinstance(self.sites, str) and self.sites != "residual":
            _fail("sites", self.sites, "'residual' or a list of residual site names")
        if not isinstance(self.sites, str):
            bad = [s for s in self.sites if not isinstance(s, str) or not SITE_PATTERN.match(s)]
            if bad or not self.sites:
                _fail(
                    "sites",
                    list(self.sites),
                    "a non-empty list of embed, blocks.N.resid_pre|resid_mid|resid_post, ln_final",
                )
        for name in ("num_pairs", "carry_pairs", "steering_pairs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                _fail(name, value, "must be an integer >= 0")
        if not isinstance(self.prior_shift, bool):
            _fail("prior_shift", self.prior_shift, "true or false")
        if not self.modes or any(m not in MODES for m in self.modes):
            _fail("modes", list(self.modes), f"a non-empty list of {list(MODES)}")
        if self.target_belief is not None:
            values = list(self.target_belief)
            if not values or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values
            ):
                _fail("target_belief", values, "a list of finite numbers, one per state of the process")

    def check_against(self, n_layers: int, process) -> None:
        """What needs the model and the process: site layers in range, the target belief on the simplex, a
        mixture for `prior_shift`."""
        if self.prior_shift and not getattr(process, "is_mixture", False):
            _fail("prior_shift", True, f"needs a mixture of processes, got {process!r}")
        if not isinstance(self.sites, str):
            layers = [int(m.group(2)) for m in map(SITE_PATTERN.match, self.sites) if m.group(2) is not None]
            if any(layer >= n_layers for layer in layers):
                _fail("sites", list(self.sites), f"block indices must be < model.n_layers={n_layers}")
        if self.target_belief is not None:
            from analysis.interventions.truth import check_belief

            check_belief(process, self.target_belief, name="config.interventions.target_belief")
