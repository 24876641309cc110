"""Steering shifts the prior, context adds evidence: in a mixture, the component posterior under a prior
`w' ∝ w exp(delta)` is `softmax(log posterior + delta)` after any prefix. On the model side, one fixed step along the
decoder of the component posterior's centred log-probabilities (chosen so the decoded log-odds move by `delta`) is
added at every position; the steered output is compared, position by position, with the Bayes prediction under the
shifted prior and under the true prior, beside a random step of the same norm."""

import dataclasses

import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

import hmm
from analysis.interventions.forward import forward
from analysis.interventions.steering import pseudo_inverse, random_step
from analysis.interventions.truth import bayes_prediction, kl
from analysis.regression.activations import collect_activations
from analysis.regression.fit import RCOND, fit_affine
from analysis.regression.prefixes import input_layout
from models.config import ConfigError
from models.keys import jax_key, numpy_rng

POSTERIOR_FLOOR = 1e-6  # component posteriors are clipped here before the log (a component ruled out by a token)
DEFAULT_SHIFT = float(np.log(4.0))  # the default shift: component 0's prior odds multiplied by 4
# the unsteered model, the log-odds decoder step, the encoder step, and random steps of their norms
CONDITIONS = ("none", "steered", "random", "encoder", "random_encoder")


def check_shift(process: hmm.Process, delta_M) -> np.ndarray:
    """`delta` as float64 `[M]`, or a ConfigError naming the process and the length or bad entry."""
    if not process.is_mixture:
        raise ConfigError(f"a prior shift needs a mixture of processes, got {process!r}")
    delta = np.asarray(delta_M, np.float64).reshape(-1)
    M = len(process.component_sizes)
    if delta.shape != (M,) or not np.all(np.isfinite(delta)):
        raise ConfigError(f"delta={delta.tolist()} is invalid: needs {M} finite numbers, one per component")
    return delta


def shifted_prior(process: hmm.Process, delta_M) -> hmm.Process:
    """The same mixture with prior `w' ∝ w exp(delta)`: each component's block of the initial belief reweighted."""
    delta = check_shift(process, delta_M)
    scale_S = np.concatenate(
        [np.full(stop - start, np.exp(d - delta.max())) for (start, stop), d in zip(process.blocks, delta)]
    )
    eta0 = np.asarray(process.initial_belief, np.float64) * scale_S
    return dataclasses.replace(process, initial_belief=eta0 / (eta0 @ process.right_vector))


def shifted_beliefs(process: hmm.Process, delta_M, tokens_BxL) -> np.ndarray:
    """Filtered beliefs `[B, L, S]` under the shifted prior (`[:, t]` has seen tokens `0..t`)."""
    return np.asarray(hmm.filter_sequences(shifted_prior(process, delta_M), tokens_BxL)[0], np.float64)


def shifted_prediction(process: hmm.Process, delta_M, tokens_BxL, with_prior: bool = False) -> np.ndarray:
    """Bayes next-token distributions `[B, L, V]` under the shifted prior; with `with_prior`, `[B, L + 1, V]`
    starting with the prediction before any token (a model with BOS reads that one at position 0)."""
    shifted = shifted_prior(process, delta_M)
    eta = shifted_beliefs(process, delta_M, tokens_BxL)
    if with_prior:
        eta0 = np.broadcast_to(np.asarray(shifted.initial_belief, np.float64), (eta.shape[0], 1, eta.shape[2]))
        eta = np.concatenate([eta0, eta], axis=1)
    return bayes_prediction(process, eta.reshape(-1, eta.shape[-1])).reshape(*eta.shape[:2], -1)


def centred_log_posterior(process: hmm.Process, beliefs_NxS) -> np.ndarray:
    """`log P(component | prefix)` minus its mean over components `[N, M]` (posteriors floored at POSTERIOR_FLOOR):
    a shift of the prior by `delta` moves it by `delta - mean(delta)`."""
    log_p = np.log(np.maximum(hmm.component_posterior(process, np.asarray(beliefs_NxS, np.float64)), POSTERIOR_FLOOR))
    return log_p - log_p.mean(axis=-1, keepdims=True)


def log_odds_fit(model, prefixes, site: str, rcond: float = RCOND, batch_size: int = 1024):
    """`(decoder inverse [M, D], encoder [M, D], decoder R^2)` at `site`: the affine decoder of the centred
    log-posterior fitted on every prefix of `prefixes`, its minimum-norm inverse (a change of the decoded log-odds
    `[M]` times it is the residual step), and the activations regressed on the log-posterior."""
    acts = collect_activations(model, prefixes, (site,), batch_size)[site]
    target_NxM = centred_log_posterior(prefixes.process, prefixes.beliefs)
    w = prefixes.weights("prob")
    fit = fit_affine(acts, target_NxM, w, rcond=rcond)
    resid = target_NxM - (np.asarray(acts, np.float64) @ fit.coef_DxC + fit.intercept_C)
    mean = (w @ target_NxM) / w.sum()
    r2 = 1.0 - (w @ (resid**2)).sum() / max((w @ ((target_NxM - mean) ** 2)).sum(), 1e-300)
    encoder_MxD = fit_affine(target_NxM, acts, w, rcond=rcond).coef_DxC
    return pseudo_inverse(fit.coef_DxC), encoder_MxD, float(r2)


def log_odds_step(model, prefixes, site: str, delta_M, rcond: float = RCOND, batch_size: int = 1024):
    """`(decoder step [D], encoder step [D], decoder R^2)`: the minimum-norm residual step at `site` that moves the
    affine decoder of the centred log-posterior (fitted on every prefix of `prefixes`) by `delta - mean(delta)`, and
    the activation change that goes with that change of log-posterior on the data (activations regressed on it)."""
    delta = check_shift(prefixes.process, delta_M)
    inverse_MxD, encoder_MxD, r2 = log_odds_fit(model, prefixes, site, rcond, batch_size)
    shift_M = delta - delta.mean()
    return shift_M @ inverse_MxD, shift_M @ encoder_MxD, r2


def steered_kl(model, inputs_BxL, site: str, steps: dict, shifted_BxLxV, base_BxLxV) -> dict:
    """Per named step (broadcastable to `[B, L, D]`), added to `site` at every position: the mean over sequences of
    `KL(Bayes || model)` per position `[L]`, against the shifted-prior (`shifted`) and true-prior (`base`) Bayes
    predictions. The name `none` is the unsteered model."""
    tokens = jnp.asarray(inputs_BxL)
    _, acts = forward(model, (site,))(tokens)
    run = forward(model)
    out = {}
    for name, step in {"none": 0.0, **steps}.items():
        step_BxLxD = np.broadcast_to(np.asarray(step, np.float32), acts[site].shape)
        log_q, _ = run(tokens, {site: acts[site] + jnp.asarray(step_BxLxD)})
        log_q = np.asarray(log_q, np.float64)
        out[name] = {
            which: kl(truth.reshape(-1, truth.shape[-1]), log_q.reshape(-1, log_q.shape[-1]))
            .reshape(truth.shape[:2])
            .mean(axis=0)
            for which, truth in (("shifted", shifted_BxLxV), ("base", base_BxLxV))
        }
    return out


def heldout_inputs(process: hmm.Process, layout, num_sequences: int, seed: int):
    """`(model inputs [B, n_ctx], process tokens [B, n_ctx - bos])` of fresh sequences, BOS prepended when used."""
    length = layout.n_ctx - int(layout.bos)
    tokens, _ = hmm.sample(process, jax_key(seed, "prior_shift_sequences"), num_sequences, length)
    tokens = np.asarray(tokens, np.int32)
    if not layout.bos:
        return tokens, tokens
    return np.concatenate([np.full((num_sequences, 1), layout.bos_token, np.int32), tokens], axis=1), tokens


@dataclasses.dataclass(frozen=True)
class PriorShiftSettings:
    """Which shifts and sites the prior-shift test runs: each of `deltas` is added to the log prior of component
    `component` (the others unchanged); `sites` is "last" (the last intervention site), "residual" or a list of
    residual sites; `num_sequences` held-out sequences score every step."""

    deltas: tuple = (DEFAULT_SHIFT,)
    component: int = 0
    sites: str | tuple = "last"
    num_sequences: int = 500

    def __post_init__(self):
        deltas = list(self.deltas) if isinstance(self.deltas, (list, tuple)) else [self.deltas]
        if not deltas or not all(_is_finite_number(d) for d in deltas):
            raise ConfigError(f"deltas={deltas!r} is invalid: a non-empty list of finite numbers (log-prior shifts)")
        num = self.num_sequences
        if isinstance(num, bool) or not isinstance(num, int) or num < 1:
            raise ConfigError(f"num_sequences={num!r} is invalid: must be an integer >= 1")

    def delta_vectors(self, process: hmm.Process) -> list[np.ndarray]:
        """One `[M]` shift per entry of `deltas`, or a ConfigError naming the component when out of range."""
        M = len(process.component_sizes) if process.is_mixture else 1
        if isinstance(self.component, bool) or not isinstance(self.component, int) or not 0 <= self.component < M:
            raise ConfigError(f"component={self.component!r} is invalid: an integer from 0 to {M - 1}")
        return [check_shift(process, np.eye(M)[self.component] * float(d)) for d in self.deltas]


def _is_finite_number(value) -> bool:
    return (
        isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool) and np.isfinite(value)
    )


def prior_shift(
    model,
    prefixes,
    site: str,
    *,
    delta=None,
    num_sequences: int = 500,
    seed: int = 0,
    rcond: float = RCOND,
    batch_size: int = 1024,
) -> dict:
    """The prior-shift test at one residual site (JSON): per position, KL from the shifted-prior and the true-prior
    Bayes predictions to the model steered along the log-odds decoder (`steered`) and along the log-odds encoder
    (`encoder`), each beside a random step of the same norm, and to the unsteered model (`none`); `mean_kl` holds
    the same averaged over positions. `delta` defaults to `log 4` on component 0. The claim holds where the
    steered model is closer to the shifted prior than to the true one at every position, with a flat curve."""
    process = prefixes.process
    M = len(process.component_sizes) if process.is_mixture else 1
    delta = check_shift(process, np.eye(M)[0] * DEFAULT_SHIFT if delta is None else delta)
    return prior_shifts(
        model, prefixes, [site], [delta], num_sequences=num_sequences, seed=seed, rcond=rcond, batch_size=batch_size
    )[0]


def prior_shifts(
    model,
    prefixes,
    sites,
    deltas,
    *,
    num_sequences: int = 500,
    seed: int = 0,
    rcond: float = RCOND,
    batch_size: int = 1024,
    progress: bool = False,
) -> list[dict]:
    """`prior_shift` for every site and every `[M]` shift in `deltas` (site-major), the log-odds decoder fitted once
    per site and one set of held-out sequences scoring them all."""
    process = prefixes.process
    deltas = [check_shift(process, d) for d in deltas]
    if isinstance(num_sequences, bool) or not isinstance(num_sequences, int) or num_sequences < 1:
        raise ConfigError(f"num_sequences={num_sequences!r} is invalid: must be an integer >= 1")
    layout = input_layout(model)
    inputs, tokens = heldout_inputs(process, layout, num_sequences, seed)
    base = shifted_prediction(process, np.zeros_like(deltas[0]), tokens, with_prior=layout.bos)
    shifted = [shifted_prediction(process, d, tokens, with_prior=layout.bos) for d in deltas]
    rng = numpy_rng(seed, "prior_shift_random")
    results = []
    with tqdm(total=len(sites) * len(deltas), desc="prior shift", disable=not progress, leave=False) as bar:
        for site in sites:
            inverse_MxD, encoder_MxD, r2 = log_odds_fit(model, prefixes, site, rcond, batch_size)
            for delta, truth in zip(deltas, shifted):
                shift_M = delta - delta.mean()
                steps = {"steered": shift_M @ inverse_MxD, "encoder": shift_M @ encoder_MxD}
                scored = _scored(model, inputs, site, delta, steps, truth, base, rng)
                results.append(scored | {"decoder_r2": r2, "num_sequences": num_sequences})
                bar.update()
    return results


def _scored(model, inputs, site: str, delta_M, steps: dict, shifted_BxLxV, base_BxLxV, rng) -> dict:
    """One site and shift: the decoder and encoder steps beside random steps of their norms, scored (JSON)."""
    norms = {name: float(np.linalg.norm(step)) for name, step in steps.items()}
    random_2xD = random_step(list(norms.values()), steps["steered"].shape[0], rng)
    curves = steered_kl(
        model,
        inputs,
        site,
        {**steps, "random": random_2xD[0], "random_encoder": random_2xD[1]},
        shifted_BxLxV,
        base_BxLxV,
    )
    curves = {name: curves[name] for name in CONDITIONS}
    return {
        "site": site,
        "delta": np.asarray(delta_M).tolist(),
        "step_norm": norms,
        "bayes_kl_shift_vs_base_nats": [float(v) for v in _bayes_gap(shifted_BxLxV, base_BxLxV)],
        "per_position": {
            name: {f"kl_{which}_nats": [float(v) for v in curve] for which, curve in pair.items()}
            for name, pair in curves.items()
        },
        "mean_kl": {
            name: {f"kl_{which}_nats": float(np.mean(curve)) for which, curve in pair.items()}
            for name, pair in curves.items()
        },
        "closer_to_shifted_everywhere": {k: bool(np.all(curves[k]["shifted"] < curves[k]["base"])) for k in norms},
        "shifted_kl_spread_nats": {k: float(np.ptp(curves[k]["shifted"])) for k in norms},
    }


def _bayes_gap(shifted_BxLxV, base_BxLxV) -> np.ndarray:
    """Mean `KL(shifted || base)` per position: how far apart the two truths are."""
    B, L, V = shifted_BxLxV.shape
    return kl(shifted_BxLxV.reshape(-1, V), np.log(np.maximum(base_BxLxV, 1e-300)).reshape(-1, V)).reshape(B, L).mean(0)
