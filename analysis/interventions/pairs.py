"""Base/donor pairs of prefixes of the same length that differ in belief, drawn with probability weights.

A base prefix is drawn with probability proportional to P(prefix) (lengths pooled, as in the regression), its
donor in proportion to P(donor) among the prefixes of its group (same length; with `same_prediction`, also the
same Bayes next-token distribution) whose belief differs. Each base is read from a full-context continuation
drawn with probability P(continuation | base), so later positions are weighted as the process weights them.
Uniform means over the drawn pairs are therefore probability-weighted means.
"""

from dataclasses import dataclass

import numpy as np

from analysis.interventions.truth import bayes_prediction
from analysis.regression.prefixes import PrefixSet

BELIEF_TOL = 1e-6  # beliefs closer than this in every coordinate count as equal
PREDICTION_TOL = 1e-9  # predictions "shared" only when equal to this (near-equal Mess3 ones must not pass)
MAX_REDRAWS = 200


@dataclass(frozen=True)
class Pairs:
    """Rows of a PrefixSet: `base[i]` patched with `donor[i]`; `sequence[i]` the base's input sequence."""

    base: np.ndarray
    donor: np.ndarray
    sequence: np.ndarray  # row of prefixes.inputs_MxL holding the base prefix and its drawn continuation
    eligible_mass: float  # probability mass of the base prefixes that have a partner (lengths pooled)

    def __len__(self) -> int:
        return len(self.base)

    def head(self, n: int) -> "Pairs":
        return Pairs(self.base[:n], self.donor[:n], self.sequence[:n], self.eligible_mass)


def _grid_ids(values_NxC: np.ndarray, extra_N: np.ndarray, tol: float = BELIEF_TOL) -> np.ndarray:
    """Integer ids of rows equal on a `tol` grid (and in `extra`)."""
    keys = np.concatenate([extra_N[:, None].astype(np.float64), np.round(values_NxC / tol)], axis=1)
    return np.unique(keys, axis=0, return_inverse=True)[1].reshape(-1)


def _draw_in_groups(group_N: np.ndarray, probs_N: np.ndarray, groups_P: np.ndarray, rng) -> np.ndarray:
    """For each entry of `groups_P`, a row of that group drawn in proportion to `probs_N`."""
    order = np.argsort(group_N, kind="stable")
    cum = np.concatenate([[0.0], np.cumsum(probs_N[order])])
    starts = np.searchsorted(group_N[order], groups_P, side="left")
    stops = np.searchsorted(group_N[order], groups_P, side="right")
    target = cum[starts] + rng.random(len(groups_P)) * (cum[stops] - cum[starts])
    pick = np.clip(np.searchsorted(cum, target, side="right") - 1, starts, stops - 1)
    return order[pick]


def _continuations(prefixes: PrefixSet, rows_P: np.ndarray, rng) -> np.ndarray:
    """For each row, the input sequence of a full-context extension drawn with probability P(it | row)."""
    C, V = prefixes.context_length, prefixes.process.vocab_size
    full = np.flatnonzero(prefixes.lengths == C)
    full = full[np.argsort(prefixes.codes[full], kind="stable")]
    lengths = prefixes.lengths[rows_P]
    scale = V ** (C - lengths).astype(np.int64)
    lo = np.searchsorted(prefixes.codes[full], prefixes.codes[rows_P] * scale, side="left")
    hi = np.searchsorted(prefixes.codes[full], (prefixes.codes[rows_P] + 1) * scale, side="left")
    cum = np.concatenate([[0.0], np.cumsum(prefixes.probs[full])])
    target = cum[lo] + rng.random(len(rows_P)) * (cum[hi] - cum[lo])
    pick = np.clip(np.searchsorted(cum, target, side="right") - 1, lo, np.maximum(hi - 1, lo))
    return np.where(
        hi > lo, prefixes.sequence_index[full[np.minimum(pick, len(full) - 1)]], prefixes.sequence_index[rows_P]
    )


def draw_pairs(
    prefixes: PrefixSet, num_pairs: int, rng: np.random.Generator, same_prediction: bool = False, min_lookahead: int = 0
) -> Pairs:
    """`num_pairs` base/donor pairs (fewer if too few prefixes have a partner; none if none has).

    `same_prediction`: donors share the base's Bayes next-token distribution. `min_lookahead`: the base must leave
    at least this many positions of the context after it (to read the patch's effect later on).
    """
    n = prefixes.num_prefixes
    lengths = prefixes.lengths
    group = lengths.astype(np.int64)
    if same_prediction:
        group = _grid_ids(bayes_prediction(prefixes.process, prefixes.beliefs), lengths, PREDICTION_TOL)
    usable = (lengths >= 1) & (lengths <= prefixes.context_length - min_lookahead)
    group = np.where(usable, group, -1)
    belief_id = _grid_ids(prefixes.beliefs, group)
    distinct_group_N = np.unique(np.stack([group, belief_id], 1), axis=0)[:, 0]
    ids, num_beliefs = np.unique(distinct_group_N, return_counts=True)
    eligible = usable & np.isin(group, ids[num_beliefs >= 2])
    if not eligible.any() or num_pairs == 0:
        empty = np.zeros(0, np.int64)
        return Pairs(empty, empty, empty, 0.0)
    probs = np.where(eligible, prefixes.probs, 0.0)
    base = rng.choice(n, size=num_pairs, p=probs / probs.sum())
    donor = np.full(num_pairs, -1)
    todo = np.arange(num_pairs)
    for _ in range(MAX_REDRAWS):
        donor[todo] = _draw_in_groups(group, prefixes.probs, group[base[todo]], rng)
        todo = todo[belief_id[donor[todo]] == belief_id[base[todo]]]
        if not len(todo):
            break
    kept = np.setdiff1d(np.arange(num_pairs), todo)
    base, donor = base[kept], donor[kept]
    mass = float(probs.sum() / prefixes.probs[lengths >= 1].sum())
    return Pairs(base, donor, _continuations(prefixes, base, rng), mass)
