"""Per-site linear decoders of the belief and of the Bayes next-token distribution, from the regression."""

from dataclasses import dataclass

import numpy as np

from analysis.regression.activations import collect_activations
from analysis.regression.fit import RCOND, AffineFit, fit_affine
from analysis.regression.measure import Settings, measure
from analysis.regression.prefixes import PrefixSet


@dataclass(frozen=True)
class SiteDecoder:
    """`belief_hat = h @ belief_DxS + belief_S`, `next_hat = h @ next_DxV + next_V` (weighted least squares), and
    the encoder `h_hat = belief @ encoder_SxD + encoder_D`: how activations move, on average, with the belief."""

    belief_DxS: np.ndarray
    belief_S: np.ndarray
    next_DxV: np.ndarray
    next_V: np.ndarray
    belief_r2: float
    encoder_SxD: np.ndarray | None = None

    @classmethod
    def from_fit(
        cls, fit: AffineFit, num_states: int, belief_r2: float, encoder_SxD=None, vocab_size: int | None = None
    ) -> "SiteDecoder":
        """Split a decoder of the targets side by side (belief columns first, then `vocab_size` next-token columns, as
        `measure` fits them; a mixture's in-context targets after those are dropped)."""
        S, stop = num_states, None if vocab_size is None else num_states + vocab_size
        return cls(
            fit.coef_DxC[:, :S],
            fit.intercept_C[:S],
            fit.coef_DxC[:, S:stop],
            fit.intercept_C[S:stop],
            belief_r2,
            encoder_SxD,
        )

    def belief(self, h_NxD) -> np.ndarray:
        return np.asarray(h_NxD, np.float64) @ self.belief_DxS + self.belief_S

    def next_token(self, h_NxD) -> np.ndarray:
        return np.asarray(h_NxD, np.float64) @ self.next_DxV + self.next_V


def fit_decoders(
    model, prefixes: PrefixSet, sites, rcond: float = RCOND, weighting: str = "prob", batch_size: int = 1024
) -> dict:
    """`{site: SiteDecoder}` fitted on every prefix of the set (no controls: the analysis runs those)."""
    acts = collect_activations(model, prefixes, tuple(sites), batch_size)
    settings = Settings(weighting=weighting, num_shuffles=0, num_cv_shuffles=0, cv_folds=0, rcond=rcond)
    groups = measure(acts, prefixes, {s: (s,) for s in sites}, settings)
    w = prefixes.weights(weighting)
    return {
        s: SiteDecoder.from_fit(
            groups[s].decoder,
            prefixes.process.num_states,
            groups[s].targets["belief"].metrics["r2"],
            fit_affine(prefixes.beliefs, acts[s], w, rcond=rcond).coef_DxC,
            prefixes.process.vocab_size,
        )
        for s in sites
    }
