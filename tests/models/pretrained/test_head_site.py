"""The per-head site `blocks.{l}.attn.z` [B, L, H, D_head] and the layer scan's capture/replace bookkeeping,
on a tiny random Llama (no torch): the head outputs project to `attn_out` through `W_O` by hand, replacing them
with themselves changes nothing, and changing one head moves `attn_out` by exactly that head's share."""

import jax.numpy as jnp
import numpy as np
import pytest

from models.config import ConfigError
from models.pretrained.config import PretrainedConfig
from models.pretrained.decoder import PretrainedDecoder

D, H, KV, DH, MLP, VOCAB, LAYERS = 16, 4, 2, 4, 24, 23, 3
TOKENS = np.array([[1, 5, 7, 2, 9, 3], [4, 4, 0, 22, 8, 1]])
B, L = TOKENS.shape


def random_weights(seed=0):
    rng = np.random.default_rng(seed)
    r = lambda *shape: rng.normal(0, 0.5, shape)
    block = lambda: {
        "ln1": {"w": 1 + r(D)},
        "ln2": {"w": 1 + r(D)},
        "attn": {"W_Q": r(D, H * DH), "W_K": r(D, KV * DH), "W_V": r(D, KV * DH), "W_O": r(H * DH, D)},
        "mlp": {"W_gate": r(D, MLP), "W_in": r(D, MLP), "W_out": r(MLP, D)},
    }
    return {"W_E": r(VOCAB, D), "blocks": [block() for _ in range(LAYERS)], "ln_final": {"w": 1 + r(D)}}


WEIGHTS = random_weights()


@pytest.fixture(scope="module")
def model():
    cfg = PretrainedConfig(
        architecture="llama",
        vocab_size=VOCAB,
        d_model=D,
        n_layers=LAYERS,
        n_heads=H,
        n_kv_heads=KV,
        d_head=DH,
        d_mlp=MLP,
        n_ctx=12,
        norm="rmsnorm",
        norm_eps=1e-5,
        act_fn="silu",
        gated_mlp=True,
        rotary_dim=DH,
        tied_embeddings=True,
    )
    return PretrainedDecoder(cfg, WEIGHTS, precision="highest")


def test_head_outputs_project_to_attn_out_through_W_O(model):
    _, acts = model(TOKENS, capture=[f"blocks.{l}.{s}" for l in range(LAYERS) for s in ("attn.z", "attn_out")])
    for l in range(LAYERS):
        z = np.asarray(acts[f"blocks.{l}.attn.z"], np.float64)
        assert z.shape == (B, L, H, DH)
        W_O_HxDhxD = WEIGHTS["blocks"][l]["attn"]["W_O"].reshape(H, DH, D)
        by_hand = sum(z[:, :, h] @ W_O_HxDhxD[h] for h in range(H))
        np.testing.assert_allclose(acts[f"blocks.{l}.attn_out"], by_hand, atol=1e-4, rtol=1e-4)


def test_capture_all_keeps_the_residual_sites_only(model):
    _, acts = model(TOKENS, capture="all")
    assert set(acts) == set(model.residual_sites())
    assert {f"blocks.{l}.attn.z" for l in range(LAYERS)} <= set(model.site_names())


def test_replacing_head_outputs_with_themselves_reproduces_the_logits(model):
    logits, acts = model(TOKENS, capture="blocks.1.attn.z")
    same, _ = model(TOKENS, replace={"blocks.1.attn.z": acts["blocks.1.attn.z"]})
    np.testing.assert_allclose(same, logits, atol=1e-5, rtol=1e-5)


def test_changing_one_head_moves_attn_out_by_that_heads_share_and_acts_downstream(model):
    sites = ["blocks.1.attn.z", "blocks.1.attn_out", "blocks.0.resid_post", "blocks.2.resid_pre"]
    logits, before = model(TOKENS, capture=sites)
    z = np.array(before["blocks.1.attn.z"])
    delta_BxLxDh = np.random.default_rng(5).normal(0, 1.0, (B, L, DH)).astype(np.float32)
    z[:, :, 2] += delta_BxLxDh
    changed, after = model(TOKENS, capture=sites, replace={"blocks.1.attn.z": jnp.asarray(z)})
    W_O_head2 = WEIGHTS["blocks"][1]["attn"]["W_O"][2 * DH : 3 * DH]
    np.testing.assert_allclose(
        after["blocks.1.attn_out"],
        np.asarray(before["blocks.1.attn_out"]) + delta_BxLxDh @ W_O_head2,
        atol=1e-4,
        rtol=1e-4,
    )
    np.testing.assert_array_equal(after["blocks.1.attn.z"], z)  # a replaced site reports its substitute
    np.testing.assert_allclose(after["blocks.0.resid_post"], before["blocks.0.resid_post"], atol=1e-6)
    assert np.abs(np.asarray(after["blocks.2.resid_pre"]) - np.asarray(before["blocks.2.resid_pre"])).max() > 1e-2
    assert np.abs(np.asarray(changed) - np.asarray(logits)).max() > 1e-2


def test_replacements_at_several_layers_each_act_in_their_own_layer(model):
    rng = np.random.default_rng(6)
    new = {l: jnp.asarray(rng.normal(0, 1, (B, L, D)), jnp.float32) for l in (0, 2)}
    capture = [f"blocks.{l}.{s}" for l in range(LAYERS) for s in ("resid_pre", "resid_mid", "mlp_out", "resid_post")]
    _, acts = model(
        TOKENS,
        capture=capture + ["blocks.1.attn.pattern"],
        replace={"blocks.0.resid_mid": new[0], "blocks.2.resid_mid": new[2]},
    )
    for l in (0, 2):  # resid_post = the substitute + mlp_out
        np.testing.assert_array_equal(acts[f"blocks.{l}.resid_mid"], new[l])
        np.testing.assert_allclose(acts[f"blocks.{l}.resid_post"], new[l] + acts[f"blocks.{l}.mlp_out"], atol=1e-5)
    for l in (1, 2):
        np.testing.assert_array_equal(acts[f"blocks.{l}.resid_pre"], acts[f"blocks.{l - 1}.resid_post"])
    for site in ("blocks.1.resid_mid", "blocks.1.mlp_out"):  # the middle layer computes its own
        assert np.abs(np.asarray(acts[site]) - np.asarray(new[0])).max() > 1e-2
    np.testing.assert_allclose(np.asarray(acts["blocks.1.attn.pattern"]).sum(-1), 1, atol=1e-6)


def test_bad_head_replacements_and_precisions_are_named(model):
    with pytest.raises(ValueError, match=r"'blocks.0.attn.z'\] has shape \(2, 6, 16\), expected \(2, 6, 4, 4\)"):
        model(TOKENS, replace={"blocks.0.attn.z": jnp.zeros((B, L, D))})
    with pytest.raises(KeyError, match="blocks.0.attn.pattern"):
        model(TOKENS, replace={"blocks.0.attn.pattern": jnp.zeros((B, H, L, L))})
    with pytest.raises(ConfigError, match=r"precision='fast' is not allowed: expected one of \[None, 'default'"):
        PretrainedDecoder(model.config, WEIGHTS, precision="fast")
