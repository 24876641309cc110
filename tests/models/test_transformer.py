"""The transformer: causal mask, named sites equal a hand recomputation, capture is opt-in."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from models import ModelConfig, Transformer, residual_sites, site_names

CFG = ModelConfig(vocab_size=3, n_layers=2, d_model=16, n_heads=2, d_head=4, d_mlp=24, n_ctx=7)


def _model(cfg=CFG, seed=0):
    return Transformer(cfg, rngs=nnx.Rngs(seed))


@functools.partial(jax.jit, static_argnums=(0, 3))
def _apply(graphdef, state, tokens, capture):
    return nnx.merge(graphdef, state)(tokens, capture=capture)


def _run(model, tokens, capture=()):
    """The model applied under jit (one compilation instead of many eager dispatches)."""
    graphdef, state = nnx.split(model)
    return _apply(graphdef, state, tokens, capture)


def _tokens(cfg=CFG, batch=5, seed=1):
    return jax.random.randint(jax.random.key(seed), (batch, cfg.n_ctx), 0, cfg.input_vocab_size)


@pytest.mark.parametrize("t", [0, 3, 6])
def test_changing_token_t_changes_no_output_before_t(t):
    model = _model()
    tokens = _tokens()
    changed = tokens.at[:, t].set((tokens[:, t] + 1) % 3)
    (la, acts_a), (lb, acts_b) = _run(model, tokens, "all"), _run(model, changed, "all")
    np.testing.assert_array_equal(np.asarray(la[:, :t]), np.asarray(lb[:, :t]))
    for name in residual_sites(CFG):
        np.testing.assert_array_equal(np.asarray(acts_a[name][:, :t]), np.asarray(acts_b[name][:, :t]), err_msg=name)
    assert not np.allclose(la[:, t], lb[:, t])  # and the mask does let position t see its own token


def _layernorm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + eps) * w + b


def test_sites_equal_a_hand_recomputation():
    model = _model()
    tokens = _tokens()
    logits, acts = _run(model, tokens, model.site_names())
    a = {k: np.asarray(v, np.float64) for k, v in acts.items()}
    p = jax.tree.map(lambda v: np.asarray(v, np.float64), nnx.to_pure_dict(nnx.state(model)))
    tok = np.asarray(tokens)
    np.testing.assert_allclose(a["embed"], p["W_E"][tok], atol=1e-6)
    np.testing.assert_allclose(a["pos_embed"][0], p["W_pos"], atol=1e-6)
    resid = p["W_E"][tok] + p["W_pos"][None]
    L = CFG.n_ctx
    for layer in range(CFG.n_layers):
        blk, name = p["blocks"][layer], f"blocks.{layer}."
        np.testing.assert_allclose(a[name + "resid_pre"], resid, atol=1e-5)
        x = _layernorm(resid, blk["ln1"]["w"], blk["ln1"]["b"], CFG.ln_eps)
        att = blk["attn"]
        q = np.einsum("bld,hde->bhle", x, att["W_Q"]) + att["b_Q"][None, :, None]
        k = np.einsum("bld,hde->bhle", x, att["W_K"])
        v = np.einsum("bld,hde->bhle", x, att["W_V"]) + att["b_V"][None, :, None]
        scores = np.einsum("bhqe,bhke->bhqk", q, k) / np.sqrt(CFG.d_head)
        scores = np.where(np.tril(np.ones((L, L), bool)), scores, -np.inf)
        pattern = np.exp(scores - scores.max(-1, keepdims=True))
        pattern /= pattern.sum(-1, keepdims=True)
        np.testing.assert_allclose(a[name + "attn.pattern"], pattern, atol=1e-5)
        attn_out = np.einsum("bhqk,bhke,hed->bqd", pattern, v, att["W_O"]) + att["b_O"]
        np.testing.assert_allclose(a[name + "attn_out"], attn_out, atol=1e-5)
        resid = resid + attn_out
        np.testing.assert_allclose(a[name + "resid_mid"], resid, atol=1e-5)
        h = np.maximum(
            _layernorm(resid, blk["ln2"]["w"], blk["ln2"]["b"], CFG.ln_eps) @ blk["mlp"]["W_in"] + blk["mlp"]["b_in"],
            0.0,
        )
        mlp_out = h @ blk["mlp"]["W_out"] + blk["mlp"]["b_out"]
        np.testing.assert_allclose(a[name + "mlp_out"], mlp_out, atol=1e-5)
        resid = resid + mlp_out
        np.testing.assert_allclose(a[name + "resid_post"], resid, atol=1e-5)
        if layer + 1 < CFG.n_layers:  # the next block reads exactly what this one wrote
            np.testing.assert_array_equal(a[name + "resid_post"], a[f"blocks.{layer + 1}.resid_pre"])
    final = _layernorm(resid, p["ln_final"]["w"], p["ln_final"]["b"], CFG.ln_eps)
    np.testing.assert_allclose(a["ln_final"], final, atol=1e-5)
    np.testing.assert_allclose(np.asarray(logits), final @ p["W_U"] + p["b_U"], atol=1e-5)


def test_pattern_is_causal_and_normalised():
    _, acts = _run(_model(), _tokens(), "blocks.1.attn.pattern")
    pattern = np.asarray(acts["blocks.1.attn.pattern"])
    assert pattern.shape == (5, CFG.n_heads, CFG.n_ctx, CFG.n_ctx)
    np.testing.assert_allclose(pattern.sum(-1), 1.0, atol=1e-6)
    assert np.all(np.triu(pattern, k=1) == 0.0)


def test_capture_is_opt_in():
    model = _model()
    tokens = _tokens()
    logits, acts = _run(model, tokens)
    assert acts == {}
    _, some = _run(model, tokens, ("blocks.1.resid_post", "embed"))
    assert set(some) == {"blocks.1.resid_post", "embed"}
    _, everything = _run(model, tokens, "all")
    assert set(everything) == set(residual_sites(CFG))
    assert not any(name.endswith("attn.pattern") for name in everything)  # patterns are asked for by name
    # nothing captured: the traced program returns the logits alone
    graphdef, state = nnx.split(model)
    jaxpr = jax.make_jaxpr(lambda s, t: nnx.merge(graphdef, s)(t))(state, tokens)
    assert len(jaxpr.out_avals) == 1
    with pytest.raises(KeyError, match="valid sites"):
        model(tokens, capture=("blocks.9.resid_post",))


def test_site_names_follow_the_conventions():
    names = site_names(ModelConfig(vocab_size=3))
    for required in ["embed", "blocks.0.resid_pre", "blocks.3.resid_mid", "blocks.3.resid_post", "ln_final"]:
        assert required in names


def test_logit_lens_on_the_last_residual_gives_the_logits():
    model = _model()
    logits, acts = _run(model, _tokens(), "blocks.1.resid_post")
    np.testing.assert_allclose(model.logits_from_residual(acts["blocks.1.resid_post"]), logits, atol=1e-5)


@pytest.mark.parametrize(
    "changes", [dict(bos=True), dict(normalization="none", act_fn="gelu"), dict(act_fn="gelu_tanh", n_heads=1)]
)
def test_variants_shapes(changes):
    cfg = CFG.replace(**changes)
    model = _model(cfg)
    logits, acts = _run(model, _tokens(cfg)[:, :4], "all")
    assert logits.shape == (5, 4, 3) and acts["ln_final"].shape == (5, 4, cfg.d_model)
    assert model.W_E.shape[0] == 3 + int(cfg.bos)
    if cfg.normalization == "none":
        np.testing.assert_array_equal(acts["ln_final"], acts["blocks.1.resid_post"])


def test_too_long_input_is_an_error():
    with pytest.raises(ValueError, match="n_ctx"):
        _model()(jnp.zeros((1, CFG.n_ctx + 1), jnp.int32))
