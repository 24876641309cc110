"""Belief steering in an LLM fed rendered process sequences, with the toy models' steps (`analysis.interventions`).

Each source sequence A is steered at its last readout position toward the last belief of the sequence B whose
belief is farthest from A's (`patching_pairs`). At one residual site the activation h of that position moves by

- `belief`: the minimum-norm step `W^+ (eta_B - eta_hat(h))` along the belief regression's decoder `W`;
- `encoder`: `(eta_B - eta_hat(h)) E`, `E` from regressing the activations on the beliefs;
- `random`, `random_encoder`: uniformly random directions with the same norms, row by row;

and the rest of the network runs on it. Decoders are cross-fitted: A's step comes from the fit that left A's fold of
sequences out. The steered next-symbol distribution (renormalised over the symbols) is scored against the Bayes
prediction of the target belief (B's) and of the source belief (A's): mean KL to each, the share of pairs nearer the
target, and `removed = 1 - sum KL(Bayes_B ‖ steered) / sum KL(Bayes_B ‖ unsteered)` (1: the target's Bayes
prediction reached; 0: nothing gained; negative: moved away).
"""

import numpy as np

from analysis.interventions.decoders import SiteDecoder
from analysis.interventions.steering import steps_toward
from analysis.llm_beliefs.forward import symbol_log_probs
from analysis.llm_beliefs.in_context import kl_rows
from analysis.llm_beliefs.patching import last_log_q, patching_pairs
from analysis.regression.fit import AffineFit, fit_affine

KINDS = ("belief", "random", "encoder", "random_encoder")


def fold_decoders(acts_NxD, beliefs_NxS, fold_N, fold_fits: list[AffineFit], r2: float = float("nan")) -> list:
    """`[SiteDecoder]` per fold f: the belief decoder `fold_fits[f]` (fitted without fold f, as
    `site_regression` returns it) and the encoder regressed on the same rows (no next-token decoder)."""
    acts, beliefs, fold_N = np.asarray(acts_NxD), np.asarray(beliefs_NxS, np.float64), np.asarray(fold_N)
    D = acts.shape[1]
    out = []
    for f, fit in enumerate(fold_fits):
        train = fold_N != f
        encoder_SxD = fit_affine(beliefs[train], acts[train]).coef_DxC
        out.append(SiteDecoder(fit.coef_DxC, fit.intercept_C, np.zeros((D, 0)), np.zeros(0), r2, encoder_SxD))
    return out


def _steps(decoders: list, fold_P, h_PxD, targets_PxS, rng) -> dict:
    """`{kind: [P, D]}`: each row's steps from its own fold's decoder."""
    steps = {k: np.zeros(h_PxD.shape) for k in KINDS}
    for f in np.unique(fold_P):
        rows = np.flatnonzero(fold_P == f)
        for kind, step in steps_toward(decoders[f], h_PxD[rows], targets_PxS[rows], rng, kinds=KINDS).items():
            steps[kind][rows] = step
    return steps


def steer_sites(
    model,
    ids_NxL,
    position: int,
    symbol_ids_V,
    sites,
    decoders: dict,
    fold_N,
    beliefs_NxS,
    bayes_NxV,
    rng,
    sources=None,
    batch_size: int = 4,
    targets=None,
) -> dict:
    """Steer each source sequence at `position` toward its target's belief at every site (see the module).

    `decoders`: `{site: [SiteDecoder per fold]}`; `fold_N`: each sequence's fold; `beliefs_NxS`, `bayes_NxV`: the
    belief and Bayes prediction at `position`; `sources`: the steered sequences (default all); `targets`: their
    target sequences (default the farthest belief's). Returns curves over `sites` (lists) and the pair summary.
    """
    ids_NxL = np.asarray(ids_NxL)
    beliefs = np.asarray(beliefs_NxS, np.float64)
    a = np.arange(len(ids_NxL)) if sources is None else np.asarray(sources)
    b = patching_pairs(beliefs)[1][a] if targets is None else np.asarray(targets)
    fold_P = np.asarray(fold_N)[a]
    P, symbol_ids = len(a), np.asarray(symbol_ids_V)
    parts, unsteered = {site: [] for site in sites}, []
    for start in range(0, P, batch_size):
        logits, acts = model(ids_NxL[a[start : start + batch_size]], capture=tuple(sites))
        unsteered.append(np.asarray(symbol_log_probs(logits[:, position], symbol_ids)[0], np.float64))
        for site in sites:
            parts[site].append(np.asarray(acts[site][:, position], np.float64))
    h, unsteered = {site: np.concatenate(parts[site]) for site in sites}, np.concatenate(unsteered)
    steps = {site: _steps(decoders[site], fold_P, h[site], beliefs[b], rng) for site in sites}
    log_q = {site: {k: np.empty((P, len(symbol_ids))) for k in KINDS} for site in sites}
    for start in range(0, P, batch_size):
        rows = slice(start, start + batch_size)
        ids = ids_NxL[a[rows]]
        _, acts = model(ids, capture=tuple(sites))
        for site in sites:
            base = np.asarray(acts[site], np.float32)
            for kind in KINDS:
                steered = base.copy()
                steered[:, position] += steps[site][kind][rows].astype(np.float32)
                log_q[site][kind][rows] = last_log_q(model, ids, position, symbol_ids, {site: steered})
    return _summary(sites, a, b, beliefs, np.asarray(bayes_NxV, np.float64), unsteered, log_q, steps, h, decoders)


def _summary(sites, a, b, beliefs, bayes, unsteered, log_q, steps, h, decoders) -> dict:
    q_target, q_source = bayes[b], bayes[a]
    kl_t0, kl_s0 = kl_rows(q_target, np.exp(unsteered)), kl_rows(q_source, np.exp(unsteered))
    curves = {name: {k: [] for k in ("unsteered", *KINDS)} for name in ("kl_target", "kl_source", "nearer_target")}
    curves |= {"removed": {k: [] for k in KINDS}, "step_norm": {k: [] for k in KINDS}, "activation_norm": []}
    for site in sites:
        for kind, kl_t, kl_s in (
            ("unsteered", kl_t0, kl_s0),
            *((k, kl_rows(q_target, np.exp(log_q[site][k])), kl_rows(q_source, np.exp(log_q[site][k]))) for k in KINDS),
        ):
            curves["kl_target"][kind].append(float(kl_t.mean()))
            curves["kl_source"][kind].append(float(kl_s.mean()))
            curves["nearer_target"][kind].append(float(np.mean(kl_t < kl_s)))
            if kind != "unsteered":
                curves["removed"][kind].append(float(1.0 - kl_t.sum() / kl_t0.sum()) if kl_t0.sum() > 0 else None)
                curves["step_norm"][kind].append(float(np.linalg.norm(steps[site][kind], axis=1).mean()))
        curves["activation_norm"].append(float(np.linalg.norm(h[site], axis=1).mean()))
    return {
        "sites": list(sites),
        "pairs": int(len(a)),
        "sources": a.tolist(),
        "targets": b.tolist(),
        "kinds": list(KINDS),
        "target_belief_l1": float(np.abs(beliefs[a] - beliefs[b]).sum(-1).mean()),
        "decoder_cv_r2": [float(decoders[s][0].belief_r2) for s in sites],
        **curves,
    }
