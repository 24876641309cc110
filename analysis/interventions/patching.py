"""Activation patching: a site's activation at the base prefix's last position (or at every position up to it)
replaced by the donor prefix's, scored against the Bayes predictions of both beliefs."""

import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from analysis.interventions.forward import forward, padded_chunks
from analysis.interventions.pairs import Pairs
from analysis.interventions.truth import bayes_prediction, continue_beliefs, kl
from analysis.regression.prefixes import PrefixSet

MODES = ("last", "all")  # replace the last position only, or every position up to and including it


def _masks(positions_B: np.ndarray, L: int, modes) -> np.ndarray:
    """`[M, B, L]`: where each mode replaces the site."""
    idx = np.arange(L)[None, :]
    table = {"last": idx == positions_B[:, None], "all": idx <= positions_B[:, None]}
    return np.stack([table[m] for m in modes])


def patched_log_probs(
    model, base_PxL, donor_PxL, positions_P, sites, modes=MODES, batch_size: int = 1024, progress: bool = False
):
    """Log-probabilities `[P, L, V]` unpatched, and `{(site, mode): [P, L, V]}` with the site patched.

    Per batch: one forward captures every site of the bases and of the donors; then one forward per site and mode
    runs with that site replaced. Every forward has the same batch shape, so a site patched with the base's own
    activation reproduces the unpatched output bit for bit.
    """
    capture = forward(model, sites)
    patched = forward(model)
    P, L = base_PxL.shape
    unpatched, out = None, {}
    chunks = list(padded_chunks(P, batch_size))
    for start, stop, index in tqdm(chunks, desc="patching", disable=not progress or len(chunks) < 2, leave=False):
        base, donor = jnp.asarray(base_PxL[index]), jnp.asarray(donor_PxL[index])
        base_lp, base_acts = capture(base)
        _, donor_acts = capture(donor)
        masks_MxBxLx1 = jnp.asarray(_masks(positions_P[index], L, modes))[..., None]
        keep = stop - start
        if unpatched is None:
            unpatched = np.empty((P,) + base_lp.shape[1:], np.float32)
        unpatched[start:stop] = np.asarray(base_lp[:keep])
        for site in sites:
            for mode, mask_BxLx1 in zip(modes, masks_MxBxLx1):
                lp, _ = patched(base, {site: jnp.where(mask_BxLx1, donor_acts[site], base_acts[site])})
                out.setdefault((site, mode), np.empty_like(unpatched))[start:stop] = np.asarray(lp[:keep])
    return unpatched, out


def fraction_closed(q_donor_NxV, log_base_NxV, log_r_NxV) -> float:
    """`1 - sum KL(q_donor || r) / sum KL(q_donor || base)`: 0 where the output stays at the unpatched one (`base`,
    log-probabilities), 1 where it is the donor's Bayes prediction. Sums run over pairs drawn with probability
    weights, so this is the probability-weighted ratio."""
    gap = kl(q_donor_NxV, log_base_NxV).sum()
    return float(1.0 - kl(q_donor_NxV, log_r_NxV).sum() / gap) if gap > 0 else float("nan")


def _inputs(prefixes: PrefixSet, pairs: Pairs):
    base = prefixes.inputs_MxL[pairs.sequence]
    donor = prefixes.inputs_MxL[prefixes.sequence_index[pairs.donor]]
    return base, donor, prefixes.positions[pairs.base]


def patching(
    model, prefixes: PrefixSet, pairs: Pairs, sites, modes=MODES, batch_size: int = 1024, progress: bool = False
) -> dict:
    """The patching curve: per mode and site, the fraction of the KL gap to the donor's Bayes prediction that
    patching closes, read at the patched (last) position. The gap is measured from the unpatched output (the base
    prefix's prediction; `unpatched_kl_to_base_bayes_nats` says how close that is to the base's Bayes prediction):
    a Bayes prediction with zeros (RRXOR's) would make a gap measured from it infinite."""
    base, donor, pos = _inputs(prefixes, pairs)
    unpatched, lp = patched_log_probs(model, base, donor, pos, sites, modes, batch_size, progress)
    rows = np.arange(len(pairs))
    q_base = bayes_prediction(prefixes.process, prefixes.beliefs[pairs.base])
    q_donor = bayes_prediction(prefixes.process, prefixes.beliefs[pairs.donor])
    own = unpatched[rows, pos]
    return {
        "num_pairs": len(pairs),
        "eligible_mass": pairs.eligible_mass,
        "sites": list(sites),
        "modes": list(modes),
        "gap_nats": float(kl(q_donor, own).mean()),
        "unpatched_kl_to_base_bayes_nats": float(kl(q_base, own).mean()),
        "closed": {m: {s: fraction_closed(q_donor, own, lp[s, m][rows, pos]) for s in sites} for m in modes},
        "kl_to_donor_nats": {m: {s: float(kl(q_donor, lp[s, m][rows, pos]).mean()) for s in sites} for m in modes},
    }


def carry_forward(
    model, prefixes: PrefixSet, pairs: Pairs, sites, modes=MODES, batch_size: int = 1024, progress: bool = False
) -> dict:
    """Pairs that share a next-token distribution but differ in belief: patch at the base's position t, read at
    t + k (k = 1, 2, ...) on the base's continuation. The truth after patching is the donor's belief carried along
    the base's later tokens; `closed[mode][site][k-1]` is the fraction of the KL gap from the unpatched output to
    that truth closed at offset k (pairs whose continuation is impossible under the donor's belief are left out at
    that offset)."""
    base, donor, pos = _inputs(prefixes, pairs)
    P, L = base.shape
    offsets = np.arange(1, L)
    col = pos[:, None] + offsets[None, :]  # [P, K] read positions
    inside = col < L
    tokens = np.take_along_axis(base, np.minimum(col, L - 1), axis=1)
    eta_b, _ = continue_beliefs(prefixes.process, prefixes.beliefs[pairs.base], tokens)
    eta_d, possible = continue_beliefs(prefixes.process, prefixes.beliefs[pairs.donor], tokens)
    valid = inside & possible
    q_b, q_d = bayes_prediction(prefixes.process, eta_b), bayes_prediction(prefixes.process, eta_d)
    unpatched, lp = patched_log_probs(model, base, donor, pos, sites, modes, batch_size, progress)
    rows = np.arange(P)[:, None]
    read = np.minimum(col, L - 1)

    own = unpatched[rows, read]

    def per_offset(log_r_PxLxV):
        log_r = log_r_PxLxV[rows, read]
        return [
            fraction_closed(q_d[valid[:, k], k], own[valid[:, k], k], log_r[valid[:, k], k])
            if valid[:, k].any()
            else None
            for k in range(len(offsets))
        ]

    def mean_per_offset(x_PxK):
        return [float(x_PxK[valid[:, k], k].mean()) if valid[:, k].any() else None for k in range(len(offsets))]

    return {
        "num_pairs": P,
        "eligible_mass": pairs.eligible_mass,
        "sites": list(sites),
        "modes": list(modes),
        "offsets": offsets.tolist(),
        "num_read": valid.sum(0).tolist(),
        "gap_nats": mean_per_offset(kl(q_d, own)),
        "unpatched_kl_to_base_bayes_nats": mean_per_offset(kl(q_b, own)),
        "closed": {m: {s: per_offset(lp[s, m]) for s in sites} for m in modes},
    }
