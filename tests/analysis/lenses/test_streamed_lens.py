"""The streamed tuned lens on a tiny random Llama: its first update against a gradient written out directly,
micro-batches and a whole-vocabulary subset changing nothing, and the held-out curve starting at the logit lens
(recomputed in numpy) and falling with training."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analysis.lenses.inputs import LensInputError
from analysis.lenses.recipe import Recipe
from analysis.lenses.stream_plan import StreamPlan
from analysis.lenses.streamed import train_streamed_lens
from analysis.lenses.text_eval import kl_curve_point, text_lens_scores
from analysis.lenses.text_rows import block_input_sites, text_inputs
from analysis.lenses.window_source import CorpusWindows
from tests.analysis.lenses.tiny_llm import N_LAYERS, V, tiny_llama

SITES = block_input_sites(N_LAYERS)
WINDOW = 16


@pytest.fixture(scope="module")
def model():
    return tiny_llama()


def _windows(seed, count=4):
    return np.random.default_rng(seed).integers(0, V, (count, WINDOW)).astype(np.int32)


def _log_softmax(x):
    x = np.asarray(x, np.float64)
    return x - x.max(-1, keepdims=True) - np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True))


def test_first_update_is_nesterov_sgd_on_the_clipped_kl_gradient(model):
    tokens = _windows(0)
    plan = StreamPlan(tokens=4 * WINDOW, window=WINDOW, windows_per_step=4)
    lens = train_streamed_lens(model, lambda step: tokens, SITES, plan)
    _, acts = model(tokens, capture=SITES)
    final = acts[SITES[-1]][:, :-1].reshape(-1, 16)
    ref = jax.nn.log_softmax(model.logits_from_residual(final), -1)
    for i, site in enumerate(SITES[:-1]):
        h = acts[site][:, :-1].reshape(-1, 16)

        def kl(A, b, h=h):
            q = jax.nn.log_softmax(model.logits_from_residual(h + h @ A + b[None]), -1)
            return jnp.mean(jnp.sum(jnp.exp(ref) * (ref - q), -1))

        gA, gb = jax.grad(kl, argnums=(0, 1))(jnp.zeros((16, 16)), jnp.zeros(16))
        norm = np.sqrt(np.sum(np.square(gA)) + np.sum(np.square(gb)))
        scale = -0.1 * (1 + 0.9) * min(1.0, 1.0 / norm)  # lr 0.1, first Nesterov step (1 + momentum) g, clip 1
        np.testing.assert_allclose(lens.params["A"][i], scale * np.asarray(gA), atol=1e-6)
        np.testing.assert_allclose(lens.params["b"][i], scale * np.asarray(gb), atol=1e-6)
    assert not np.any(lens.params["A"][-1]) and not np.any(lens.params["b"][-1])  # the final site is not lensed


@pytest.mark.slow
def test_micro_batches_and_an_all_token_subset_change_nothing(model):
    stream = {step: _windows(10 + step) for step in range(3)}
    plan = StreamPlan(tokens=3 * 4 * WINDOW, window=WINDOW, windows_per_step=4)
    whole = train_streamed_lens(model, stream.get, SITES, plan)
    split = train_streamed_lens(model, stream.get, SITES, StreamPlan(**{**plan.__dict__, "micro_batches": 2}))
    subset = train_streamed_lens(model, stream.get, SITES, plan, vocab_ids=np.arange(V))
    for other in (split, subset):
        np.testing.assert_allclose(other.params["A"], whole.params["A"], atol=2e-5)
        np.testing.assert_allclose(other.losses, whole.losses, rtol=1e-4)
    assert whole.tokens_seen == 3 * 4 * WINDOW and whole.losses.shape == (3, N_LAYERS)


def test_curve_starts_at_the_logit_lens_and_falls(model):
    ids = np.random.default_rng(3).integers(0, 40, 3000).astype(np.int32)  # a 40-token language
    heldout_W = np.random.default_rng(4).integers(0, 40, (4, WINDOW))
    inputs = text_inputs(model, heldout_W, SITES)
    plan = StreamPlan(tokens=24 * 8 * WINDOW, window=WINDOW, windows_per_step=8, curve_points=2)
    lens = train_streamed_lens(
        model,
        CorpusWindows(ids, WINDOW, 8),
        SITES,
        plan,
        Recipe(),
        evaluate=kl_curve_point(model, inputs, np.arange(inputs.num_rows), SITES),
    )
    assert [c["tokens"] for c in lens.curve] == [0, 12 * 8 * WINDOW, 24 * 8 * WINDOW]
    logits, acts = model(heldout_W, capture=SITES)
    p = _log_softmax(np.asarray(logits)[:, :-1])
    for i, site in enumerate(SITES):
        q = _log_softmax(np.asarray(model.logits_from_residual(acts[site]))[:, :-1])
        kl = (np.exp(p) * (p - q)).sum(-1).mean()
        assert lens.curve[0]["kl_model"][i] == pytest.approx(kl, rel=1e-4, abs=1e-6)
    assert lens.curve[-1]["mean_kl"] < 0.9 * lens.curve[0]["mean_kl"]
    scores = text_lens_scores(model, inputs, SITES, lens.params, n_bytes=inputs.num_rows, vocab_ids=np.arange(V))
    np.testing.assert_allclose(scores["kl_model"], lens.curve[-1]["kl_model"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scores["subset_kl_error"], 0.0, atol=1e-5)
    assert scores["bits_per_byte"][-1] == pytest.approx(scores["model"]["cross_entropy_observed"] / np.log(2), rel=1e-5)


def test_plan_errors_name_the_field():
    with pytest.raises(LensInputError, match="micro_batches=3"):
        StreamPlan(windows_per_step=4, micro_batches=3)
    with pytest.raises(LensInputError, match="tokens=100"):
        StreamPlan(tokens=100)
    with pytest.raises(LensInputError, match="window=1"):
        StreamPlan(window=1)
    published = StreamPlan.published()
    assert published.steps == 250 and published.tokens_per_step == 2**18
