"""Tiny random GPT-2, GPT-NeoX and Llama checkpoints built locally with transformers (no hub), saved as
safetensors, loaded by the JAX loaders: logits and every hidden state agree with torch within 1e-5."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the parity tests need the `parity` extra (torch, transformers)")
transformers = pytest.importorskip("transformers", reason="the parity tests need the `parity` extra (transformers)")

from models.pretrained import load_pretrained  # noqa: E402

VOCAB = 97
TINY = {
    "gpt2": lambda: transformers.GPT2Config(
        vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=4, n_positions=40, bos_token_id=0, eos_token_id=0
    ),
    "gpt_neox": lambda: transformers.GPTNeoXConfig(
        vocab_size=VOCAB,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=96,
        max_position_embeddings=40,
        rotary_pct=0.25,
        use_parallel_residual=True,
        tie_word_embeddings=False,
    ),
    "llama": lambda: transformers.LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=48,
        max_position_embeddings=40,
        tie_word_embeddings=False,
        rms_norm_eps=1e-5,
    ),
}
# (architecture, config field, expected value): the tiny sizes must have taken effect
SIZES = {
    "gpt2": {"n_layers": 2, "d_model": 32, "n_heads": 4, "vocab_size": VOCAB},
    "gpt_neox": {"n_layers": 2, "d_model": 64, "n_heads": 4, "d_mlp": 96, "rotary_dim": 4, "parallel_residual": True},
    "llama": {"n_layers": 2, "d_model": 32, "n_heads": 4, "n_kv_heads": 2, "d_mlp": 48, "tied_embeddings": False},
}


def _save_random(arch, directory, shard):
    """A transformers model with every parameter (norms and biases included) drawn N(0, 0.3²), saved."""
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(TINY[arch]()).float().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.3)
    model.save_pretrained(directory, safe_serialization=True, **({"max_shard_size": "20KB"} if shard else {}))
    return model


@pytest.fixture(scope="module", params=sorted(TINY))
def pair(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp(request.param)
    torch_model = _save_random(request.param, directory, shard=request.param == "llama")
    jax_model, tokenizer = load_pretrained(directory, precision="highest")
    return request.param, directory, torch_model, jax_model, tokenizer


def _rel(a, b):
    return float(np.abs(np.asarray(a) - np.asarray(b)).max() / np.abs(np.asarray(b)).max())


def test_tiny_sizes_took_effect(pair):
    arch, directory, torch_model, jax_model, tokenizer = pair
    assert torch_model.config.num_hidden_layers == 2 and torch_model.config.vocab_size == VOCAB
    assert sum(p.numel() for p in torch_model.parameters()) < 200_000
    for field, value in SIZES[arch].items():
        assert getattr(jax_model.config, field) == value, field
    assert tokenizer is None
    if arch == "llama":
        assert (directory / "model.safetensors.index.json").exists()
        assert len(json.loads((directory / "model.safetensors.index.json").read_text())["weight_map"]) > 1
        assert len(list(directory.glob("*.safetensors"))) > 1


def test_logits_and_hidden_states_match_torch(pair):
    arch, _, torch_model, jax_model, _ = pair
    tokens = np.random.default_rng(1).integers(0, VOCAB, size=(3, 17))
    with torch.no_grad():
        out = torch_model(torch.tensor(tokens), output_hidden_states=True)
    n = jax_model.config.n_layers
    sites = [f"blocks.{l}.resid_pre" for l in range(n)] + ["ln_final"]
    logits, acts = jax_model(tokens, capture=sites)
    assert _rel(logits, out.logits.numpy()) < 1e-5
    assert len(out.hidden_states) == n + 1
    for site, hidden in zip(sites, out.hidden_states):
        assert _rel(acts[site], hidden.numpy()) < 1e-5, site


# the module whose input is the concatenated per-head attention output, per architecture
OUTPUT_PROJECTION = {
    "gpt2": lambda m, l: m.transformer.h[l].attn.c_proj,
    "gpt_neox": lambda m, l: m.gpt_neox.layers[l].attention.dense,
    "llama": lambda m, l: m.model.layers[l].self_attn.o_proj,
}


def test_head_outputs_are_the_output_projections_input_and_replacing_one_head_matches_torch(pair):
    arch, _, torch_model, jax_model, _ = pair
    tokens = np.random.default_rng(2).integers(0, VOCAB, size=(2, 11))
    cfg = jax_model.config
    projection = OUTPUT_PROJECTION[arch](torch_model, 1)
    seen = {}
    hook = projection.register_forward_pre_hook(lambda module, args: seen.setdefault("z", args[0].clone()))
    with torch.no_grad():
        torch_model(torch.tensor(tokens))
    hook.remove()
    _, acts = jax_model(tokens, capture="blocks.1.attn.z")
    z = np.asarray(acts["blocks.1.attn.z"])
    assert z.shape == (2, 11, cfg.n_heads, cfg.d_head)
    assert _rel(z.reshape(2, 11, -1), seen["z"].numpy()) < 1e-5
    # head 1 of layer 1 replaced by a random vector in both models
    new_z = z.copy()
    new_z[:, :, 1] = np.random.default_rng(3).normal(0, 1, (2, 11, cfg.d_head))
    hook = projection.register_forward_pre_hook(lambda module, args: (torch.tensor(new_z.reshape(2, 11, -1)),))
    with torch.no_grad():
        expected = torch_model(torch.tensor(tokens)).logits.numpy()
    hook.remove()
    logits, _ = jax_model(tokens, replace={"blocks.1.attn.z": new_z})
    assert _rel(logits, expected) < 1e-5
    assert _rel(jax_model(tokens)[0], expected) > 1e-3  # the replacement visibly acts
