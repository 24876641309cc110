"""The model-agnostic lens core: logit lens = model output, untrained tuned = logit, transfer entries by hand,
divergences against scipy, recovery of a known affine map, and batched metrics against numpy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from scipy.special import log_softmax
from scipy.stats import entropy as scipy_entropy

from analysis.lenses import (
    LensInputError,
    LensInputs,
    Readout,
    Recipe,
    TunedLens,
    fit_shared_lens,
    fit_tuned_lens,
    logit_lens,
    logit_lens_logits,
    split_rows,
    tuned_transfer,
)
from analysis.lenses import metrics as lm
from analysis.lenses.translator import identity, translate
from models.config import ModelConfig
from models.transformer import Transformer

TINY = ModelConfig(vocab_size=3, n_layers=2, d_model=16, n_heads=2, d_head=8, d_mlp=32, n_ctx=6)


@pytest.fixture(scope="module")
def tiny():
    model = Transformer(TINY, rngs=nnx.Rngs(0))
    tokens = jax.random.randint(jax.random.key(1), (40, 6), 0, 3)
    sites = (
        "blocks.0.resid_pre",
        "blocks.0.resid_mid",
        "blocks.0.resid_post",
        "blocks.1.resid_mid",
        "blocks.1.resid_post",
    )
    logits, acts = model(tokens, capture=sites)
    resid = {s: np.asarray(acts[s]).reshape(-1, 16) for s in sites}
    rng = np.random.default_rng(0)
    bayes = rng.dirichlet(np.ones(3), size=240)
    inputs = LensInputs(resid, rng.random(240) + 0.1, bayes, rng.integers(0, 3, 240))
    return model, np.asarray(logits).reshape(-1, 3), inputs


def test_logit_lens_at_the_last_residual_is_the_models_output(tiny):
    model, logits, inputs = tiny
    lens = logit_lens_logits(Readout.from_model(model), jnp.asarray(inputs.resid["blocks.1.resid_post"]))
    np.testing.assert_allclose(np.asarray(lens), logits, atol=1e-5)


def test_untrained_tuned_lens_is_exactly_the_logit_lens(tiny):
    model, _, inputs = tiny
    readout = Readout.from_model(model)
    h = jnp.asarray(inputs.resid["blocks.0.resid_mid"])
    zero = jax.tree.map(lambda a: a[0], identity(1, 16))
    assert np.array_equal(
        np.asarray(readout.apply(readout.state, translate(zero, h))), np.asarray(logit_lens_logits(readout, h))
    )
    rows = np.arange(inputs.num_rows)
    untrained = TunedLens(inputs.sites, jax.tree.map(np.asarray, identity(len(inputs.sites), 16)), np.zeros((5, 1)))
    tuned, logit = untrained.metrics(readout, inputs, rows)[0], logit_lens(readout, inputs, rows)[0]
    assert all(np.array_equal(tuned[k], logit[k]) for k in logit)


def test_metrics_match_a_numpy_computation_in_any_batch_size(tiny):
    model, logits, inputs = tiny
    readout = Readout.from_model(model)
    rows = np.arange(7, 200)
    lens, own = logit_lens(readout, inputs, rows, batch_size=32)  # several padded batches
    w = inputs.weights_N[rows] / inputs.weights_N[rows].sum()
    ref = log_softmax(logits[rows].astype(np.float64), axis=-1)
    for i, site in enumerate(inputs.sites):
        q = log_softmax(np.asarray(logit_lens_logits(readout, jnp.asarray(inputs.resid[site][rows])), np.float64), -1)
        kl = np.sum(np.exp(ref) * (ref - q), -1)
        ce = -np.sum(inputs.bayes_NxV[rows] * q, -1)
        nll = -q[np.arange(len(rows)), inputs.next_ids_N[rows]]
        assert lens["kl_model"][i] == pytest.approx(w @ kl, abs=1e-6)
        assert lens["cross_entropy"][i] == pytest.approx(w @ ce, abs=1e-5)
        assert lens["cross_entropy_observed"][i] == pytest.approx(w @ nll, abs=1e-5)
        assert lens["entropy"][i] == pytest.approx(w @ -np.sum(np.exp(q) * q, -1), abs=1e-5)
    assert lens["kl_model"][-1] == pytest.approx(0.0, abs=1e-7)
    assert own["kl_model"] == 0.0 and own["top1_model"] == pytest.approx(1.0)


def test_divergences_agree_with_scipy_and_vanish_on_equal_distributions():
    rng = np.random.default_rng(2)
    p = rng.dirichlet(np.ones(7) * 0.3, size=50)
    p[:5, 0] = 0.0  # exact zeros in the first argument
    p /= p.sum(-1, keepdims=True)
    q = rng.dirichlet(np.ones(7), size=50)
    logq = jnp.log(jnp.asarray(q, jnp.float32))
    expected = scipy_entropy(p.T, q.T)
    np.testing.assert_allclose(np.asarray(lm.kl_from_probs(jnp.asarray(p, jnp.float32), logq)), expected, atol=1e-5)
    r = rng.dirichlet(np.ones(7), size=50)
    logr = jnp.log(jnp.asarray(r, jnp.float32))
    np.testing.assert_allclose(np.asarray(lm.kl_from_log_probs(logq, logr)), scipy_entropy(q.T, r.T), atol=1e-5)
    assert np.all(np.asarray(lm.kl_from_log_probs(logq, logr)) >= 0)
    assert np.all(np.asarray(lm.kl_from_probs(jnp.asarray(p, jnp.float32), logq)) >= 0)
    assert np.all(np.asarray(lm.kl_from_log_probs(logq, logq)) == 0)
    np.testing.assert_allclose(np.asarray(lm.entropy(logq)), scipy_entropy(q.T), atol=1e-5)


def test_transfer_entries_are_translator_i_applied_at_site_j(tiny):
    model, logits, inputs = tiny
    readout = Readout.from_model(model)
    train, test = split_rows(inputs.num_rows, 0.25, seed=0)
    tuned = fit_tuned_lens(readout, inputs, train, recipe=Recipe(steps=30, batch_size=64))
    out = tuned_transfer(readout, inputs, test, inputs.sites, tuned.params, batch_size=64)
    own = tuned.metrics(readout, inputs, test, batch_size=64)[0]
    np.testing.assert_allclose(np.diag(out["raw"]["kl_model"]), own["kl_model"], atol=1e-7)
    # one off-diagonal entry by hand: translator 0 applied to site 3's residual, read out, KL to the model
    params0 = jax.tree.map(lambda a: a[0], tuned.params)
    q = log_softmax(
        np.asarray(
            readout.apply(readout.state, translate(params0, jnp.asarray(inputs.resid[inputs.sites[3]][test]))),
            np.float64,
        ),
        -1,
    )
    ref = log_softmax(logits[test].astype(np.float64), -1)
    w = inputs.weights_N[test] / inputs.weights_N[test].sum()
    kl_03 = w @ np.sum(np.exp(ref) * (ref - q), -1)
    assert out["raw"]["kl_model"][0, 3] == pytest.approx(kl_03, abs=1e-5)
    assert out["kl_model_penalty"][0, 3] == pytest.approx(kl_03 - own["kl_model"][3], abs=1e-5)
    for key in ("kl_model_penalty", "kl_bayes_penalty", "cross_entropy_penalty", "cross_entropy_observed_penalty"):
        assert np.abs(out[key]).max() > 0


def _synthetic(n=3000, d=8, v=5, seed=0):
    """Residuals `x` and a final residual that is a known affine image of them; a linear readout."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    M = (np.eye(d) + 0.5 * rng.normal(size=(d, d))).astype(np.float32)
    c = rng.normal(size=d).astype(np.float32)
    W = (0.3 * rng.normal(size=(d, v))).astype(np.float32)
    inputs = LensInputs({"x": x, "y": 0.5 * x + 1.0, "final": x @ M + c}, np.ones(n))
    return inputs, Readout.from_function(lambda h: h @ W), M, c, W


def test_tuned_lens_recovers_a_known_affine_map():
    inputs, readout, M, c, W = _synthetic()
    train, test = split_rows(inputs.num_rows, 0.2, seed=1)
    recipe = Recipe(optimizer="adam", learning_rate=0.05, weight_decay=0.0, steps=400, batch_size=256)
    tuned = fit_tuned_lens(readout, inputs, train, ["x"], recipe)
    kl = tuned.metrics(readout, inputs, test)[0]["kl_model"][0]
    logit_kl = logit_lens(readout, inputs, test, ["x"])[0]["kl_model"][0]
    assert logit_kl > 0.1
    assert kl < 2e-3 * logit_kl
    h = inputs.resid["x"][test]

    def centred(logits):  # softmax ignores a shift shared by all logits of a row
        return logits - logits.mean(-1, keepdims=True)

    lens_logits = (h + h @ tuned.params["A"][0] + tuned.params["b"][0]) @ W
    target = centred((h @ M + c) @ W)
    assert np.linalg.norm(centred(lens_logits) - target) < 0.05 * np.linalg.norm(target)


def test_shared_lens_is_one_map_for_every_site():
    inputs, readout, *_ = _synthetic(seed=3)
    train, test = split_rows(inputs.num_rows, 0.2, seed=1)
    recipe = Recipe(optimizer="adam", learning_rate=0.05, weight_decay=0.0, steps=300, batch_size=256)
    shared = fit_shared_lens(readout, inputs, train, ["x", "y"], recipe)
    assert shared.params["A"].shape == (8, 8)
    per_site = fit_tuned_lens(readout, inputs, train, ["x", "y"], recipe).metrics(readout, inputs, test)[0]
    one_map = shared.metrics(readout, inputs, test)[0]
    # one affine map cannot serve both x and 0.5 x + 1 as well as one map per site can
    assert one_map["kl_model"].sum() > 10 * per_site["kl_model"].sum()


def test_bad_inputs_are_one_line_errors(tiny):
    _, _, inputs = tiny
    with pytest.raises(LensInputError, match="unknown lens site"):
        inputs.check_sites(["blocks.9.resid_post"])
    with pytest.raises(LensInputError, match="weights_N"):
        LensInputs(inputs.resid, -np.ones(inputs.num_rows))
    with pytest.raises(LensInputError, match=r"\[N, D\]"):
        LensInputs({"a": np.zeros((4, 3)), "b": np.zeros((5, 3))}, np.ones(4))
    with pytest.raises(LensInputError, match="optimizer"):
        Recipe(optimizer="lion")
