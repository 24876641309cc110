"""Belief steering: move a site's activation so its decoded belief becomes a target, run the rest of the network,
and compare the output with the Bayes prediction of the target, against two controls (a random step of the same
norm, a step along the next-token decoder) and a step along the belief encoder (the activation change that goes with
that belief change on the data) with its own random control of the same norm."""

import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from analysis.interventions.decoders import SiteDecoder
from analysis.interventions.forward import forward, padded_chunks
from analysis.interventions.truth import bayes_prediction, kl

# the belief decoder's step, its two controls, the encoder's step and a random step of the encoder step's norm
KINDS = ("belief", "random", "next_token", "encoder", "random_encoder")
PINV_RCOND = 1e-6  # decoder directions weaker than this x the strongest are not inverted (sum-to-one direction)
MIN_GAIN = 1e-8  # nor any direction along which a unit step moves the readout by less than this


def pseudo_inverse(coef_DxC: np.ndarray, rcond: float = PINV_RCOND) -> np.ndarray:
    """`pinv(coef)` `[C, D]` without the directions whose gain is below `rcond` x the largest or below
    MIN_GAIN: a decoder that reads (almost) nothing, such as RRXOR's next-token decoder at the token embedding,
    must give no step rather than an enormous one."""
    u, sv, vt = np.linalg.svd(coef_DxC, full_matrices=False)
    keep = sv > max(rcond * sv.max(initial=0.0), MIN_GAIN)
    return (vt[keep].T / sv[keep]) @ u[:, keep].T


def belief_step(decoder: SiteDecoder, h_NxD, target_NxS, rcond: float = PINV_RCOND) -> np.ndarray:
    """The minimum-norm step `W^+ (eta_target - eta_hat(h))` with `eta_hat = W h + b`."""
    return (target_NxS - decoder.belief(h_NxD)) @ pseudo_inverse(decoder.belief_DxS, rcond)


def next_token_step(decoder: SiteDecoder, h_NxD, target_NxV, rcond: float = PINV_RCOND) -> np.ndarray:
    """The minimum-norm step that moves the next-token decoder's readout to `target_NxV`."""
    return (target_NxV - decoder.next_token(h_NxD)) @ pseudo_inverse(decoder.next_DxV, rcond)


def encoder_step(decoder: SiteDecoder, h_NxD, target_NxS) -> np.ndarray:
    """`(eta_target - eta_hat(h)) @ E`: the change of activation that, on average over the prefixes, goes with that
    change of belief (`E` from regressing activations on beliefs)."""
    return (target_NxS - decoder.belief(h_NxD)) @ decoder.encoder_SxD


def random_step(norms_N, dim: int, rng) -> np.ndarray:
    """Uniformly random directions with the given norms."""
    z = rng.standard_normal((len(norms_N), dim))
    return z / np.linalg.norm(z, axis=1, keepdims=True) * np.asarray(norms_N)[:, None]


def steps_toward(decoder: SiteDecoder, h_NxD, targets_NxS, rng, process=None, kinds=KINDS) -> dict:
    """`{kind: step [N, D]}` moving activations `h` toward the target beliefs: the decoder's step, the encoder's
    step, each with a random step of the same norm per row (`random`, `random_encoder`), and with `process` the
    step along the next-token decoder toward the targets' Bayes prediction. Random draws come in `KINDS` order."""
    h = np.asarray(h_NxD, np.float64)
    steps = {"belief": belief_step(decoder, h, targets_NxS)}
    if "random" in kinds:
        steps["random"] = random_step(np.linalg.norm(steps["belief"], axis=1), h.shape[1], rng)
    if "next_token" in kinds:
        steps["next_token"] = next_token_step(decoder, h, bayes_prediction(process, targets_NxS))
    if "encoder" in kinds or "random_encoder" in kinds:
        steps["encoder"] = encoder_step(decoder, h, targets_NxS)
    if "random_encoder" in kinds:
        steps["random_encoder"] = random_step(np.linalg.norm(steps["encoder"], axis=1), h.shape[1], rng)
    return {k: steps[k] for k in kinds}


def steered_outputs(
    model,
    tokens_PxL,
    positions_P,
    targets_PxS,
    process,
    site: str,
    decoders: dict,
    readout,
    rng,
    base_acts: dict,
    batch_size: int = 1024,
):
    """Per kind: log-probabilities at the steered position `[P, V]`, decoded beliefs `{later site: [P, S]}`, and
    the step norms. `base_acts[site]`: each pair's activation `[P, L, D]` (unsteered)."""
    P, L = tokens_PxL.shape
    rows = np.arange(P)
    h = base_acts[site][rows, positions_P].astype(np.float64)
    steps = steps_toward(decoders[site], h, targets_PxS, rng, process)
    run = forward(model, readout)
    K = len(KINDS)
    log_probs = {k: np.empty((P, 0)) for k in KINDS}
    decoded = {k: {s: np.empty((P, process.num_states)) for s in readout} for k in KINDS}
    for start, stop, index in padded_chunks(P, batch_size):
        onehot_BxLx1 = (np.arange(L)[None, :] == positions_P[index][:, None])[..., None]
        acts = jnp.asarray(base_acts[site][index])
        repl = jnp.concatenate([acts + onehot_BxLx1 * steps[k][index][:, None, :].astype(np.float32) for k in KINDS])
        lp, caught = run(jnp.tile(jnp.asarray(tokens_PxL[index]), (K, 1)), {site: repl})
        lp = np.asarray(lp).reshape(K, len(index), L, -1)
        keep, pos = stop - start, positions_P[index][: stop - start]
        for i, k in enumerate(KINDS):
            if log_probs[k].shape[1] == 0:
                log_probs[k] = np.empty((P, lp.shape[-1]))
            log_probs[k][start:stop] = lp[i, np.arange(keep), pos]
            for s in readout:
                h_s = np.asarray(caught[s]).reshape(K, len(index), L, -1)[i, np.arange(keep), pos]
                decoded[k][s][start:stop] = decoders[s].belief(h_s)
    norms = {k: np.linalg.norm(v, axis=1) for k, v in steps.items()}
    return log_probs, decoded, norms


def steering(
    model,
    prefixes,
    base_rows,
    sequences,
    targets_PxS,
    sites,
    decoders: dict,
    rng,
    batch_size: int = 1024,
    progress: bool = False,
    keep_points: int = 300,
) -> tuple[dict, dict]:
    """Steer each base prefix's last position toward its target belief at every site.

    Returns `(summary, points)`: the summary (JSON) has, per site, the mean KL from the target's Bayes prediction to
    the output before steering and after each kind of step, the fraction of that KL removed, the step norms, and
    the mean distance between the target and the belief read back at every later site (steered and unsteered);
    `points` keeps base, target and achieved beliefs (read at the last site) of a few pairs for the figures.
    """
    process = prefixes.process
    tokens = prefixes.inputs_MxL[sequences]
    pos = prefixes.positions[base_rows]
    P, L = tokens.shape
    rows = np.arange(P)
    q_target = bayes_prediction(process, targets_PxS)
    base_lp = np.empty((P, process.vocab_size))
    base_acts = {s: np.empty((P, L, 0), np.float32) for s in sites}
    capture = forward(model, sites)
    for start, stop, index in padded_chunks(P, batch_size):
        lp, acts = capture(jnp.asarray(tokens[index]))
        keep = stop - start
        base_lp[start:stop] = np.asarray(lp)[np.arange(keep), pos[start:stop]]
        for s in sites:
            if base_acts[s].shape[2] == 0:
                base_acts[s] = np.empty((P, L, acts[s].shape[-1]), np.float32)
            base_acts[s][start:stop] = np.asarray(acts[s])[:keep]
    unsteered = {s: decoders[s].belief(base_acts[s][rows, pos]) for s in sites}
    kl_before = kl(q_target, base_lp)
    summary, points = {}, {}
    for i, site in enumerate(tqdm(sites, desc="steering", disable=not progress, leave=False)):
        readout = sites[i:]
        lp, decoded, norms = steered_outputs(
            model, tokens, pos, targets_PxS, process, site, decoders, readout, rng, base_acts, batch_size
        )
        kls = {k: kl(q_target, lp[k]) for k in KINDS}
        summary[site] = {
            "decoder_r2": decoders[site].belief_r2,
            "kl_before_nats": float(kl_before.mean()),
            **{f"kl_{k}_nats": float(kls[k].mean()) for k in KINDS},
            "kl_removed": {
                k: float(1.0 - kls[k].sum() / kl_before.sum()) if kl_before.sum() > 0 else None for k in KINDS
            },
            "step_norm": {k: float(norms[k].mean()) for k in KINDS},
            "activation_norm": float(np.linalg.norm(base_acts[site][rows, pos], axis=1).mean()),
            "readback_distance": {
                s: {
                    "steered": _distance(decoded["belief"][s], targets_PxS),
                    "random": _distance(decoded["random"][s], targets_PxS),
                    "encoder": _distance(decoded["encoder"][s], targets_PxS),
                    "unsteered": _distance(unsteered[s], targets_PxS),
                }
                for s in readout
            },
        }
        n = min(keep_points, P)
        points[site] = {
            "base": prefixes.beliefs[base_rows[:n]],
            "target": targets_PxS[:n],
            "achieved": decoded["belief"][sites[-1]][:n],
            "achieved_encoder": decoded["encoder"][sites[-1]][:n],
        }
    return {
        "num_pairs": P,
        "sites": list(sites),
        "kinds": list(KINDS),
        "readout_site": sites[-1],
        "per_site": summary,
    }, points


def _distance(a_NxS, b_NxS) -> float:
    """Mean Euclidean distance between rows."""
    return float(np.linalg.norm(np.asarray(a_NxS) - np.asarray(b_NxS), axis=1).mean())
