"""The shifted-prior filter against brute-force enumeration, the log-posterior additivity identity, and steering
the hand-built Bayes machine along the true belief change."""

import itertools

import jax
import numpy as np
import pytest

import hmm
from analysis.interventions.prior_shift import (
    centred_log_posterior,
    shifted_beliefs,
    shifted_prediction,
    shifted_prior,
    steered_kl,
)
from models.config import ConfigError
from tests.bayes_machine import BayesMachine

COMPONENTS = [hmm.get_process("mess3", x=0.15, alpha=0.6), hmm.get_process("mess3", x=0.05, alpha=0.85)]
MIXTURE = hmm.mixture(COMPONENTS, [0.3, 0.7])
DELTA = np.array([1.2, -0.4])


def _brute_force_joint(components, prior_M, tokens_L) -> np.ndarray:
    """`P(x_0..x_t, component m)` `[L, M]` by summing over every hidden-state path of every component."""
    L, out = len(tokens_L), np.zeros((len(tokens_L), len(components)))
    for m, c in enumerate(components):
        T, eta0 = np.asarray(c.transition_matrices, np.float64), np.asarray(c.initial_belief, np.float64)
        for t in range(L):
            for path in itertools.product(range(c.num_states), repeat=t + 2):
                p = eta0[path[0]]
                for k in range(t + 1):
                    p *= T[tokens_L[k], path[k], path[k + 1]]
                out[t, m] += prior_M[m] * p
    return out


def test_shifted_filter_matches_enumeration_over_paths_and_components():
    w = np.array([0.3, 0.7]) * np.exp(DELTA)
    w /= w.sum()
    tokens_BxL = np.array([[0, 2, 1], [1, 1, 1], [2, 0, 0]])
    beliefs = shifted_beliefs(MIXTURE, DELTA, tokens_BxL)
    predicted = shifted_prediction(MIXTURE, DELTA, tokens_BxL, with_prior=True)
    for b, tokens in enumerate(tokens_BxL):
        joint_LxM = _brute_force_joint(COMPONENTS, w, tokens)
        np.testing.assert_allclose(
            hmm.component_posterior(MIXTURE, beliefs[b]), joint_LxM / joint_LxM.sum(1, keepdims=True), atol=1e-5
        )
        evidence = np.concatenate([[1.0], joint_LxM.sum(1)])
        for t in range(len(tokens) - 1):  # P(x_{t+1} | x_<=t) from the enumerated joint, for the token seen
            np.testing.assert_allclose(predicted[b, t + 1, tokens[t + 1]], evidence[t + 2] / evidence[t + 1], atol=1e-5)
        np.testing.assert_allclose(predicted[b, 0, tokens[0]], evidence[1], atol=1e-5)


def test_shifted_posterior_is_softmax_of_log_posterior_plus_delta():
    tokens, _ = hmm.sample(MIXTURE, jax.random.key(1), 16, 8)
    base = hmm.component_posterior(MIXTURE, np.asarray(hmm.beliefs(MIXTURE, tokens), np.float64))
    shifted = hmm.component_posterior(MIXTURE, shifted_beliefs(MIXTURE, DELTA, tokens))
    logits = np.log(base) + DELTA
    expected = np.exp(logits - logits.max(-1, keepdims=True))
    np.testing.assert_allclose(shifted, expected / expected.sum(-1, keepdims=True), atol=1e-5)
    moved = centred_log_posterior(MIXTURE, shifted_beliefs(MIXTURE, DELTA, tokens).reshape(-1, 6))
    unmoved = centred_log_posterior(MIXTURE, np.asarray(hmm.beliefs(MIXTURE, tokens)).reshape(-1, 6))
    np.testing.assert_allclose(moved - unmoved, np.broadcast_to(DELTA - DELTA.mean(), moved.shape), atol=1e-4)


def test_shifted_prior_reweights_the_components_only():
    shifted = shifted_prior(MIXTURE, DELTA)
    w = np.array([0.3, 0.7]) * np.exp(DELTA)
    np.testing.assert_allclose(hmm.mixture_weights(shifted), w / w.sum(), atol=1e-12)
    np.testing.assert_array_equal(shifted.transition_matrices, MIXTURE.transition_matrices)


def test_steering_the_bayes_machine_along_the_true_belief_change_gives_the_shifted_prediction():
    machine = BayesMachine(MIXTURE, n_ctx=6)
    tokens, _ = hmm.sample(MIXTURE, jax.random.key(2), 32, 6)
    tokens = np.asarray(tokens)
    base_eta = np.asarray(hmm.beliefs(MIXTURE, tokens), np.float64)
    step_BxLxD = (shifted_beliefs(MIXTURE, DELTA, tokens) - base_eta) @ machine.A_SxD
    rng = np.random.default_rng(0)
    random = rng.standard_normal(step_BxLxD.shape)
    random *= np.linalg.norm(step_BxLxD, axis=-1, keepdims=True) / np.linalg.norm(random, axis=-1, keepdims=True)
    shifted, base = shifted_prediction(MIXTURE, DELTA, tokens), shifted_prediction(MIXTURE, np.zeros(2), tokens)
    curves = steered_kl(machine, tokens, "ln_final", {"true": step_BxLxD, "random": random}, shifted, base)
    assert np.all(curves["true"]["shifted"] < 1e-4)
    assert np.all(curves["true"]["base"] > 1e-3)
    assert np.all(curves["none"]["base"] < 1e-4)  # unsteered, the machine is Bayes-optimal
    assert curves["random"]["shifted"].mean() > 10 * curves["true"]["shifted"].mean()


def test_a_shift_needs_a_mixture_and_one_number_per_component():
    with pytest.raises(ConfigError, match="needs a mixture"):
        shifted_prior(COMPONENTS[0], [0.0])
    with pytest.raises(ConfigError, match="delta=.*2 finite numbers"):
        shifted_prior(MIXTURE, [0.0, 1.0, 2.0])


def test_interventions_on_a_mixture_report_the_prior_shift_per_position():
    from flax import nnx

    from analysis.interventions import interventions
    from analysis.interventions.prior_shift import heldout_inputs
    from analysis.regression.prefixes import input_layout
    from models import ModelConfig, Transformer

    cfg = ModelConfig(vocab_size=3, n_layers=1, d_model=16, n_heads=2, d_head=4, d_mlp=24, n_ctx=4)
    model = Transformer(cfg, rngs=nnx.Rngs(0))
    section, _ = interventions(
        model, MIXTURE, num_pairs=0, carry_pairs=0, steering_pairs=0, prior_shift=True, figures=False
    )
    (shift,) = section["prior_shift"]["results"]
    assert shift["site"] == section["settings"]["sites"][-1] and shift["delta"] == pytest.approx([np.log(4), 0])
    assert {k: len(v["kl_base_nats"]) for k, v in shift["per_position"].items()} == dict.fromkeys(
        ["none", "steered", "random", "encoder", "random_encoder"], 4
    )
    # the unsteered curve against the true prior, recomputed from the model's logits and hmm's filter
    inputs, tokens = heldout_inputs(MIXTURE, input_layout(model), shift["num_sequences"], seed=0)
    log_q = np.asarray(jax.nn.log_softmax(model(jax.numpy.asarray(inputs))[0], -1), np.float64)
    p = np.asarray(hmm.predictive_distribution(MIXTURE, np.asarray(hmm.beliefs(MIXTURE, tokens), np.float64)))
    expected = np.sum(p * (np.log(p) - log_q), -1).mean(0)
    np.testing.assert_allclose(shift["per_position"]["none"]["kl_base_nats"], expected, rtol=1e-4, atol=1e-6)
    assert shift["step_norm"]["steered"] > 0 and shift["step_norm"]["encoder"] > 0


def test_a_mixtures_next_token_decoder_reads_only_the_next_token_columns():
    from flax import nnx

    from analysis.interventions import fit_decoders
    from analysis.regression.fit import fit_affine
    from analysis.regression.prefixes import input_layout, prefix_set
    from models import ModelConfig, Transformer

    cfg = ModelConfig(vocab_size=3, n_layers=1, d_model=16, n_heads=2, d_head=4, d_mlp=24, n_ctx=3)
    model = Transformer(cfg, rngs=nnx.Rngs(1))
    prefixes = prefix_set(MIXTURE, input_layout(model))
    decoder = fit_decoders(model, prefixes, ["ln_final"])["ln_final"]
    acts = np.asarray(model(jax.numpy.asarray(prefixes.inputs_MxL), capture=("ln_final",))[1]["ln_final"])
    acts_NxD = acts[prefixes.sequence_index, prefixes.positions]
    direct = fit_affine(acts_NxD, hmm.predictive_distribution(MIXTURE, prefixes.beliefs), prefixes.weights("prob"))
    np.testing.assert_allclose(decoder.next_token(acts_NxD), acts_NxD @ direct.coef_DxC + direct.intercept_C, atol=1e-6)


def test_every_site_and_shift_is_scored_with_a_step_linear_in_the_shift():
    from flax import nnx

    from analysis.interventions import interventions
    from analysis.interventions.prior_shift import PriorShiftSettings
    from models import ModelConfig, Transformer

    cfg = ModelConfig(vocab_size=3, n_layers=1, d_model=16, n_heads=2, d_head=4, d_mlp=24, n_ctx=3)
    model = Transformer(cfg, rngs=nnx.Rngs(2))
    sites = ["embed", "ln_final"]
    settings = PriorShiftSettings(deltas=(2.0, -1.0), component=1, sites=tuple(sites), num_sequences=20)
    section, _ = interventions(
        model, MIXTURE, num_pairs=0, carry_pairs=0, steering_pairs=0, prior_shift=settings, figures=False
    )
    shift = section["prior_shift"]
    assert shift["sites"] == sites and shift["component"] == 1 and shift["deltas"] == [2.0, -1.0]
    results = shift["results"]
    assert [(r["site"], r["delta"]) for r in results] == [(s, [0.0, d]) for s in sites for d in (2.0, -1.0)]
    for big, small in zip(results[::2], results[1::2]):  # one decoder per site: the step scales with the shift
        assert big["decoder_r2"] == small["decoder_r2"]
        for kind in ("steered", "encoder"):
            assert big["step_norm"][kind] == pytest.approx(2.0 * small["step_norm"][kind], rel=1e-9)
        for name, curves in big["per_position"].items():
            np.testing.assert_allclose(big["mean_kl"][name]["kl_base_nats"], np.mean(curves["kl_base_nats"]))
    # the unsteered model and the true prior do not depend on the shift; the shifted prior's prediction does
    assert results[0]["per_position"]["none"]["kl_base_nats"] == results[1]["per_position"]["none"]["kl_base_nats"]
    assert all(np.min(r["bayes_kl_shift_vs_base_nats"]) > 0 for r in results)


def test_prior_shift_settings_errors_name_the_field():
    from analysis.interventions.prior_shift import PriorShiftSettings

    with pytest.raises(ConfigError, match=r"deltas=\[nan\] is invalid"):
        PriorShiftSettings(deltas=(float("nan"),))
    with pytest.raises(ConfigError, match="num_sequences=0 is invalid"):
        PriorShiftSettings(num_sequences=0)
    with pytest.raises(ConfigError, match="component=2 is invalid: an integer from 0 to 1"):
        PriorShiftSettings(component=2).delta_vectors(MIXTURE)
