"""Interventions against independent truths: the model's own forward pass, a hand-built Bayes machine, hmm's
filter, and the prefix probabilities."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import hmm
from analysis.interventions import (
    bayes_prediction,
    carry_forward,
    continue_beliefs,
    draw_pairs,
    fit_decoders,
    interventions,
    patched_log_probs,
    patching,
    residual_stream,
    steering,
)
from analysis.interventions.steering import steered_outputs
from analysis.regression.prefixes import input_layout, prefix_set
from models import ModelConfig, Transformer
from models.config import ConfigError
from tests.bayes_machine import BayesMachine

MESS3 = hmm.get_process("mess3")
RRXOR = hmm.get_process("rrxor")


def _toy(process, seed=0, n_ctx=5):
    cfg = ModelConfig(vocab_size=process.vocab_size, n_layers=2, d_model=16, n_heads=2, d_head=4, d_mlp=24, n_ctx=n_ctx)
    return Transformer(cfg, rngs=nnx.Rngs(seed))


def _prefixes(model, process):
    return prefix_set(process, input_layout(model))


def test_patching_a_site_with_its_own_activation_changes_nothing():
    model = _toy(MESS3)
    prefixes = _prefixes(model, MESS3)
    tokens = prefixes.inputs_MxL[:37]
    pos = np.arange(37) % tokens.shape[1]
    sites = residual_stream(model)
    unpatched, patched = patched_log_probs(model, tokens, tokens, pos, sites, batch_size=16)
    reference = np.asarray(jax.nn.log_softmax(model(jnp.asarray(tokens))[0], -1))
    np.testing.assert_allclose(unpatched, reference, atol=1e-6)
    for key, lp in patched.items():
        np.testing.assert_array_equal(lp, unpatched, err_msg=str(key))


def test_patching_the_last_residual_site_gives_the_donors_logits():
    model = _toy(MESS3)
    prefixes = _prefixes(model, MESS3)
    rng = np.random.default_rng(0)
    base, donor = prefixes.inputs_MxL[rng.integers(0, 243, 20)], prefixes.inputs_MxL[rng.integers(0, 243, 20)]
    pos = rng.integers(0, 5, 20)
    _, patched = patched_log_probs(model, base, donor, pos, ("embed", "blocks.1.resid_post", "ln_final"))
    donor_lp = np.asarray(jax.nn.log_softmax(model(jnp.asarray(donor))[0], -1))[np.arange(20), pos]
    for site in ("blocks.1.resid_post", "ln_final"):
        np.testing.assert_allclose(patched[site, "last"][np.arange(20), pos], donor_lp, atol=1e-5)
    # every position of the token embedding replaced: the donor's input, so the donor's output everywhere
    np.testing.assert_allclose(patched["embed", "all"][np.arange(20), pos], donor_lp, atol=1e-5)


def test_pairs_share_a_length_differ_in_belief_and_follow_the_prefix_probabilities():
    prefixes = _prefixes(_toy(MESS3, n_ctx=3), MESS3)
    pairs = draw_pairs(prefixes, 30000, np.random.default_rng(1))
    assert len(pairs) == 30000
    np.testing.assert_array_equal(prefixes.lengths[pairs.base], prefixes.lengths[pairs.donor])
    assert np.abs(prefixes.beliefs[pairs.base] - prefixes.beliefs[pairs.donor]).max(1).min() > 1e-6
    first = np.flatnonzero(prefixes.lengths == 1)  # lengths pooled: each length carries a third of the mass
    freq = np.array([(pairs.base == r).mean() for r in first])
    np.testing.assert_allclose(freq, prefixes.probs[first] / 3, atol=0.01)
    # the drawn continuation extends the base prefix
    seq = prefixes.inputs_MxL[pairs.sequence]
    for r, s in zip(pairs.base[:200], seq[:200]):
        k = prefixes.lengths[r]
        assert int("".join(map(str, s[:k])), 3) == prefixes.codes[r]


def test_same_prediction_pairs_share_the_bayes_prediction():
    prefixes = _prefixes(_toy(RRXOR, n_ctx=6), RRXOR)
    pairs = draw_pairs(prefixes, 500, np.random.default_rng(2), same_prediction=True, min_lookahead=1)
    assert len(pairs) == 500 and prefixes.lengths[pairs.base].max() <= 5
    q_b, q_d = (bayes_prediction(RRXOR, prefixes.beliefs[r]) for r in (pairs.base, pairs.donor))
    np.testing.assert_allclose(q_b, q_d, atol=1e-6)
    assert np.abs(prefixes.beliefs[pairs.base] - prefixes.beliefs[pairs.donor]).max(1).min() > 1e-6
    assert (
        len(draw_pairs(_prefixes(_toy(MESS3, n_ctx=4), MESS3), 10, np.random.default_rng(0), same_prediction=True)) == 0
    )  # Mess3's prediction determines its belief


def test_continued_beliefs_equal_hmms_filter_and_flag_impossible_tokens():
    tokens = np.asarray(jax.random.randint(jax.random.key(0), (6, 7), 0, 3))
    start = np.tile(MESS3.stationary_distribution, (6, 1))
    beliefs, possible = continue_beliefs(MESS3, start, tokens)
    np.testing.assert_allclose(beliefs, np.asarray(hmm.beliefs(MESS3, tokens)), atol=1e-6)
    assert possible.all()
    in_T = np.eye(5)[[3]]  # RRXOR state T emits 1 for certain
    _, possible = continue_beliefs(RRXOR, in_T, np.array([[0, 1]]))
    assert not possible.any()


def test_patching_the_bayes_machine_transfers_exactly_where_the_belief_is_read():
    machine = BayesMachine(MESS3, n_ctx=5)
    prefixes = _prefixes(machine, MESS3)
    pairs = draw_pairs(prefixes, 300, np.random.default_rng(0))
    out = patching(machine, prefixes, pairs, residual_stream(machine), batch_size=128)
    assert out["unpatched_kl_to_base_bayes_nats"] < 1e-6
    for site in ("blocks.0.resid_post", "ln_final"):
        assert out["closed"]["last"][site] == pytest.approx(1.0, abs=1e-5)
    for site in ("embed", "blocks.0.resid_pre", "blocks.0.resid_mid"):  # read one position later, not here
        assert out["closed"]["last"][site] == pytest.approx(0.0, abs=1e-5)


def test_carry_forward_on_the_bayes_machine_is_one_step_exactly():
    machine = BayesMachine(RRXOR, n_ctx=6)
    prefixes = _prefixes(machine, RRXOR)
    pairs = draw_pairs(prefixes, 300, np.random.default_rng(3), same_prediction=True, min_lookahead=1)
    out = carry_forward(machine, prefixes, pairs, ("blocks.0.resid_mid", "ln_final"), batch_size=128)
    assert out["gap_nats"][0] > 0.1 and out["num_read"][0] > 100
    mid, final = out["closed"]["last"]["blocks.0.resid_mid"], out["closed"]["last"]["ln_final"]
    assert mid[0] == pytest.approx(1.0, abs=1e-5)  # the next position reads the patched belief
    for k in range(1, len(mid)):
        if out["num_read"][k] and out["gap_nats"][k] > 1e-3:  # later ones read unpatched positions
            assert mid[k] == pytest.approx(0.0, abs=1e-5)
    assert all(v is None or abs(v) < 1e-5 for v in final)  # the last site feeds no later position


def test_steering_the_bayes_machine_reaches_the_targets_bayes_prediction():
    machine = BayesMachine(MESS3, n_ctx=5)
    prefixes = _prefixes(machine, MESS3)
    sites = ("blocks.0.resid_post", "ln_final")
    decoders = fit_decoders(machine, prefixes, sites)
    pairs = draw_pairs(prefixes, 200, np.random.default_rng(4))
    targets = prefixes.beliefs[pairs.donor]
    tokens, pos = prefixes.inputs_MxL[pairs.sequence], prefixes.positions[pairs.base]
    _, acts = machine(jnp.asarray(tokens), capture=sites)
    lp, decoded, _ = steered_outputs(
        machine,
        tokens,
        pos,
        targets,
        MESS3,
        "blocks.0.resid_post",
        decoders,
        sites,
        np.random.default_rng(0),
        {s: np.asarray(a) for s, a in acts.items()},
    )
    for kind in ("belief", "encoder"):  # the encoder regressed from the data is the machine's own A
        np.testing.assert_allclose(np.exp(lp[kind]), bayes_prediction(MESS3, targets), atol=1e-5, err_msg=kind)
    np.testing.assert_allclose(decoded["belief"]["ln_final"], targets, atol=1e-5)
    summary, _ = steering(
        machine, prefixes, pairs.base, pairs.sequence, targets, sites, decoders, np.random.default_rng(0)
    )
    r = summary["per_site"]["ln_final"]
    assert r["kl_belief_nats"] < 1e-8 < r["kl_before_nats"]
    assert r["kl_random_nats"] > 1e3 * r["kl_belief_nats"]


def test_steering_toward_the_belief_already_read_changes_nothing():
    model = _toy(MESS3)
    prefixes = _prefixes(model, MESS3)
    sites = ("blocks.0.resid_mid", "blocks.1.resid_post")
    decoders = fit_decoders(model, prefixes, sites)
    rows = np.flatnonzero(prefixes.lengths >= 1)[::7][:50]
    tokens, pos = prefixes.inputs_MxL[prefixes.sequence_index[rows]], prefixes.positions[rows]
    _, acts = model(jnp.asarray(tokens), capture=sites)
    acts = {s: np.asarray(a) for s, a in acts.items()}
    already = decoders["blocks.0.resid_mid"].belief(acts["blocks.0.resid_mid"][np.arange(50), pos])
    lp, _, norms = steered_outputs(
        model, tokens, pos, already, MESS3, "blocks.0.resid_mid", decoders, sites, np.random.default_rng(0), acts
    )
    assert norms["belief"].max() == 0.0
    own = np.asarray(jax.nn.log_softmax(model(jnp.asarray(tokens))[0], -1))[np.arange(50), pos]
    np.testing.assert_allclose(lp["belief"], own, atol=1e-6)


def test_bad_input_is_a_config_error_before_any_model_runs():
    model = _toy(MESS3)
    with pytest.raises(ConfigError, match="blocks.7.resid_post"):
        interventions(model, MESS3, sites=["blocks.7.resid_post"])
    with pytest.raises(ConfigError, match="off the simplex"):
        interventions(model, MESS3, target_belief=[0.5, 0.6, 0.1])
    with pytest.raises(ConfigError, match="3 finite numbers"):
        interventions(model, MESS3, target_belief=[0.5, 0.5])
    with pytest.raises(ConfigError, match="num_pairs"):
        interventions(model, MESS3, num_pairs=-1)


def test_a_decoder_that_reads_nothing_gives_no_step():
    from analysis.interventions import SiteDecoder
    from analysis.interventions.steering import next_token_step, pseudo_inverse

    rng = np.random.default_rng(0)
    coef = rng.normal(size=(10, 3))
    coef -= coef.mean(1, keepdims=True)  # columns sum to zero, as a fitted probability decoder's do
    np.testing.assert_allclose(pseudo_inverse(coef), np.linalg.pinv(coef, rcond=1e-6), atol=1e-12)
    noise = SiteDecoder(coef, np.ones(3) / 3, 1e-17 * coef, np.ones(3) / 3, 0.0)
    assert np.all(next_token_step(noise, rng.normal(size=(4, 10)), np.eye(3)[[0, 1, 2, 0]]) == 0.0)
