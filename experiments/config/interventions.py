"""The opt-in `interventions:` section of an experiment config (activation patching and belief steering)."""

import math
import re
from dataclasses import dataclass

from models.config import ConfigError

SITE_PATTERN = re.compile(r"^(embed|ln_final|blocks\.(\d+)\.resid_(pre|mid|post))$")
MODES = ("last", "all")
LOG_4 = math.log(4.0)  # the default prior shift: one component's prior odds multiplied by 4


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
    log-odds and compare with the Bayes filter under the shifted prior (off by default): each of
    `prior_shift_deltas` is added to the log prior of component `prior_shift_component`, at `prior_shift_sites`
    ("last": the last of `sites`; "residual"; or a list), scored on `prior_shift_sequences` held-out sequences.
    """

    enabled: bool = False
    sites: str | tuple = "residual"
    num_pairs: int = 2000
    carry_pairs: int = 1000
    steering_pairs: int = 1000
    modes: tuple = MODES
    target_belief: tuple | None = None
    prior_shift: bool = False
    prior_shift_deltas: tuple = (LOG_4,)
    prior_shift_component: int = 0
    prior_shift_sites: str | tuple = "last"
    prior_shift_sequences: int = 500

    def __post_init__(self):
        _check_sites("sites", self.sites, ("residual",))
        _check_sites("prior_shift_sites", self.prior_shift_sites, ("last", "residual"))
        deltas = list(self.prior_shift_deltas) if isinstance(self.prior_shift_deltas, (list, tuple)) else None
        if not deltas or not all(_finite(v) for v in deltas):
            _fail(
                "prior_shift_deltas", self.prior_shift_deltas, "a non-empty list of finite numbers (log-prior shifts)"
            )
        for name in ("prior_shift_component", "prior_shift_sequences"):
            value, least = getattr(self, name), 1 if name == "prior_shift_sequences" else 0
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                _fail(name, value, f"must be an integer >= {least}")
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
            if not values or not all(_finite(v) for v in values):
                _fail("target_belief", values, "a list of finite numbers, one per state of the process")

    def prior_shift_settings(self):
        """The prior-shift test's `analysis.interventions.prior_shift.PriorShiftSettings`, or False when off."""
        if not self.prior_shift:
            return False
        from analysis.interventions.prior_shift import PriorShiftSettings

        return PriorShiftSettings(
            deltas=tuple(float(d) for d in self.prior_shift_deltas),
            component=self.prior_shift_component,
            sites=self.prior_shift_sites,
            num_sequences=self.prior_shift_sequences,
        )

    def check_against(self, n_layers: int, process) -> None:
        """What needs the model and the process: site layers in range, the target belief on the simplex, a
        mixture for `prior_shift`."""
        if self.prior_shift and not getattr(process, "is_mixture", False):
            _fail("prior_shift", True, f"needs a mixture of processes, got {process!r}")
        if self.prior_shift:
            M = len(process.component_sizes)
            if self.prior_shift_component >= M:
                _fail(
                    "prior_shift_component", self.prior_shift_component, f"the mixture has {M} components: 0 to {M - 1}"
                )
        for name in ("sites", "prior_shift_sites"):
            sites = getattr(self, name)
            if not isinstance(sites, str):
                layers = [int(m.group(2)) for m in map(SITE_PATTERN.match, sites) if m.group(2) is not None]
                if any(layer >= n_layers for layer in layers):
                    _fail(name, list(sites), f"block indices must be < model.n_layers={n_layers}")
        if self.target_belief is not None:
            from analysis.interventions.truth import check_belief

            check_belief(process, self.target_belief, name="config.interventions.target_belief")


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_sites(name: str, sites, words: tuple) -> None:
    """A site list field: one of `words` or a non-empty list of residual site names."""
    allowed = " or ".join(repr(w) for w in words)
    if isinstance(sites, str):
        if sites not in words:
            _fail(name, sites, f"{allowed} or a list of residual site names")
        return
    if not sites or any(not isinstance(s, str) or not SITE_PATTERN.match(s) for s in sites):
        _fail(name, list(sites), "a non-empty list of embed, blocks.N.resid_pre|resid_mid|resid_post, ln_final")
