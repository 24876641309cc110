"""`replace=`: a substituted site is what the rest of the network runs on (checked against independent paths)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from models import ModelConfig, Transformer

CFG = ModelConfig(vocab_size=3, n_layers=2, d_model=16, n_heads=2, d_head=4, d_mlp=24, n_ctx=6)


def _setup():
    model = Transformer(CFG, rngs=nnx.Rngs(0))
    tokens = jax.random.randint(jax.random.key(1), (4, CFG.n_ctx), 0, 3)
    return model, tokens


def test_replacing_the_last_residual_gives_the_logit_lens_of_the_substitute():
    model, tokens = _setup()
    h = jax.random.normal(jax.random.key(2), (4, CFG.n_ctx, CFG.d_model))
    logits, acts = model(tokens, capture=("blocks.1.resid_post",), replace={"blocks.1.resid_post": h})
    np.testing.assert_array_equal(np.asarray(acts["blocks.1.resid_post"]), np.asarray(h))
    np.testing.assert_allclose(np.asarray(logits), np.asarray(model.logits_from_residual(h)), atol=1e-5)


def test_replacing_the_first_residual_with_other_tokens_gives_their_output():
    model, tokens = _setup()
    other = (tokens + 1) % 3
    other_logits, other_acts = model(other, capture=("blocks.0.resid_pre",))
    logits, _ = model(tokens, replace={"blocks.0.resid_pre": other_acts["blocks.0.resid_pre"]})
    np.testing.assert_allclose(np.asarray(logits), np.asarray(other_logits), atol=1e-5)


def test_zeroed_attention_output_leaves_resid_mid_equal_to_resid_pre():
    model, tokens = _setup()
    zeros = jnp.zeros((4, CFG.n_ctx, CFG.d_model))
    _, acts = model(tokens, capture=("blocks.0.resid_pre", "blocks.0.resid_mid"), replace={"blocks.0.attn_out": zeros})
    np.testing.assert_array_equal(np.asarray(acts["blocks.0.resid_mid"]), np.asarray(acts["blocks.0.resid_pre"]))


def test_replace_works_under_jit_and_rejects_bad_sites_and_shapes():
    model, tokens = _setup()
    graphdef, state = nnx.split(model)
    run = jax.jit(lambda s, t, r: nnx.merge(graphdef, s)(t, replace=r)[0])
    _, acts = model(tokens, capture=("blocks.0.resid_mid",))
    np.testing.assert_allclose(
        np.asarray(run(state, tokens, {"blocks.0.resid_mid": acts["blocks.0.resid_mid"]})),
        np.asarray(model(tokens)[0]),
        atol=1e-6,
    )
    with pytest.raises(KeyError, match="blocks.9.resid_post"):
        model(tokens, replace={"blocks.9.resid_post": acts["blocks.0.resid_mid"]})
    with pytest.raises(ValueError, match="shape"):
        model(tokens, replace={"blocks.0.resid_mid": acts["blocks.0.resid_mid"][:, :2]})
