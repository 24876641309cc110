"""Activation patching between sequences that differ in belief at the last position.

Sequence A's residual at one site is replaced by sequence B's (at every position up to and including the last
readout position, or at that position only) and the forward pass continues. The patched next-symbol distribution
(renormalised over the symbols) is scored by the fraction of the closable gap to B's Bayes prediction it closes:

    closed = sum_pairs (KL(Bayes_B ‖ q_A) - KL(Bayes_B ‖ q_patched)) / sum_pairs (KL(Bayes_B ‖ q_A) - KL(Bayes_B ‖ q_B))

so 1 means the patched run predicts as well as B's own run, 0 that nothing moved. A gap of at most `ZERO_GAP` nats
(the source has A's belief and the model predicts the same from both) has nothing to close: its fraction is 0.
The control patches from the sampled sequence whose last belief is nearest A's; its own gap is near zero, so its
fraction is noisy, and `control_of_far_gap` gives its KL change in units of the far pairs' gap instead.
"""

import numpy as np

from analysis.llm_beliefs.forward import symbol_log_probs
from analysis.llm_beliefs.in_context import kl_rows

ZERO_GAP = 1e-6  # nats summed over pairs
MODES = ("all", "last")


def patching_pairs(beliefs_NxS: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each sequence A (its last belief a row): B = the sequence whose belief is farthest (L1), control = the
    nearest other sequence. Returns index arrays `(a_P, b_P, control_P)`."""
    beliefs = np.asarray(beliefs_NxS, np.float64)
    dist_NxN = np.abs(beliefs[:, None] - beliefs[None]).sum(-1)
    a = np.arange(len(beliefs))
    far = np.argmax(dist_NxN, axis=1)
    near = np.argmin(np.where(np.eye(len(beliefs), dtype=bool), np.inf, dist_NxN), axis=1)
    return a, far, near


def closed_fraction(before_P, after_P, reachable_P) -> float:
    """Ratio of sums (see the module docstring); 0 when the closable gap is at most `ZERO_GAP`."""
    gap = float(np.sum(np.asarray(before_P) - np.asarray(reachable_P)))
    return 0.0 if abs(gap) <= ZERO_GAP else float(np.sum(np.asarray(before_P) - np.asarray(after_P)) / gap)


def last_log_q(model, ids_BxL, position: int, symbol_ids_V, replace=None) -> np.ndarray:
    """`[B, V]` float64: the next-symbol log-probabilities at `position` (renormalised over the symbols), with
    `replace` substituted into the forward pass."""
    logits, _ = model(ids_BxL, replace=replace)
    log_q, _ = symbol_log_probs(logits[:, position], np.asarray(symbol_ids_V))
    return np.asarray(log_q, np.float64)


def _patched_log_q(model, ids_NxL, resid_NxLxD, site, a, src, position, mode, symbol_ids_V, batch_size):
    out = []
    for start in range(0, len(a), batch_size):
        rows_a, rows_src = a[start : start + batch_size], src[start : start + batch_size]
        patched = resid_NxLxD[rows_a].copy()
        span = slice(0, position + 1) if mode == "all" else slice(position, position + 1)
        patched[:, span] = resid_NxLxD[rows_src][:, span]
        out.append(last_log_q(model, ids_NxL[rows_a], position, symbol_ids_V, {site: patched}))
    return np.concatenate(out)


def patch_sites(
    model, ids_NxL, position: int, symbol_ids_V, sites, bayes_NxV, beliefs_NxS, batch_size: int = 4, pairs=None
) -> dict:
    """Per site and mode, the closed fraction for the far pairs and for the same-belief control, with the mean
    KLs behind them. `bayes_NxV`, `beliefs_NxS`: Bayes prediction and belief at the last readout `position`;
    `pairs`: `(a_P, b_P, control_P)` (default `patching_pairs(beliefs_NxS)`)."""
    ids_NxL = np.asarray(ids_NxL)
    a, b, c = patching_pairs(beliefs_NxS) if pairs is None else (np.asarray(p) for p in pairs)
    clean, resid = [], {site: [] for site in sites}
    for start in range(0, len(ids_NxL), batch_size):
        logits, acts = model(ids_NxL[start : start + batch_size], capture=tuple(sites))
        clean.append(np.asarray(symbol_log_probs(logits[:, position], np.asarray(symbol_ids_V))[0], np.float64))
        for site in sites:
            resid[site].append(np.asarray(acts[site], np.float32))
    q_N = np.exp(np.concatenate(clean))
    result = {"sites": list(sites), "pairs": len(a), "modes": {}}
    for name, src in (("far", b), ("control", c)):
        result[f"{name}_belief_l1"] = float(np.abs(beliefs_NxS[a] - beliefs_NxS[src]).sum(-1).mean())
    for mode in MODES:
        curves = {"far": [], "control": [], "control_of_far_gap": [], "far_kl_after": [], "control_kl_after": []}
        for site in sites:
            resid_NxLxD = np.concatenate(resid[site])
            for name, src in (("far", b), ("control", c)):
                target = bayes_NxV[src]
                log_q = _patched_log_q(
                    model, ids_NxL, resid_NxLxD, site, a, src, position, mode, symbol_ids_V, batch_size
                )
                before, reachable, after = (
                    kl_rows(target, q_N[a]),
                    kl_rows(target, q_N[src]),
                    kl_rows(target, np.exp(log_q)),
                )
                curves[name].append(closed_fraction(before, after, reachable))
                curves[f"{name}_kl_after"].append(float(after.mean()))
                if name == "far":
                    far_gap = before - reachable
            # the control's KL change in units of the far pairs' gap: stable when the control's own gap is ~0
            curves["control_of_far_gap"].append(closed_fraction(before, after, before - far_gap))
        result["modes"][mode] = curves
    for name, src in (("far", b), ("control", c)):
        result[f"{name}_kl_before"] = float(kl_rows(bayes_NxV[src], q_N[a]).mean())
        result[f"{name}_kl_reachable"] = float(kl_rows(bayes_NxV[src], q_N[src]).mean())
    return result
