"""A Llama of SmolLM2-135M's shape with random weights, under Hugging Face tensor names, for benchmarks that
need no checkpoint: the same arrays feed the JAX loader and (with strict name checking) transformers."""

import numpy as np

from models.pretrained import llama
from models.pretrained.decoder import PretrainedDecoder
from models.pretrained.tensors import TensorSource

SMOLLM2_135M = {
    "model_type": "llama",
    "vocab_size": 49152,
    "hidden_size": 576,
    "num_hidden_layers": 30,
    "num_attention_heads": 9,
    "num_key_value_heads": 3,
    "head_dim": 64,
    "intermediate_size": 1536,
    "max_position_embeddings": 8192,
    "rms_norm_eps": 1e-5,
    "rope_theta": 100000.0,
    "tie_word_embeddings": True,
    "hidden_act": "silu",
}


def random_llama_tensors(hf: dict, seed: int = 0) -> dict:
    """`{name: float32 array}` in `LlamaForCausalLM`'s names and `[out, in]` layout, N(0, 0.02²) matrices
    (norm weights near 1), for the config dict `hf` (tied embeddings: no `lm_head`)."""
    rng = np.random.default_rng(seed)
    D, V, F = hf["hidden_size"], hf["vocab_size"], hf["intermediate_size"]
    q, kv = hf["num_attention_heads"] * hf["head_dim"], hf["num_key_value_heads"] * hf["head_dim"]
    shapes = {"model.embed_tokens.weight": (V, D), "model.norm.weight": (D,)}
    for layer in range(hf["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        shapes |= {
            p + "input_layernorm.weight": (D,),
            p + "post_attention_layernorm.weight": (D,),
            p + "self_attn.q_proj.weight": (q, D),
            p + "self_attn.k_proj.weight": (kv, D),
            p + "self_attn.v_proj.weight": (kv, D),
            p + "self_attn.o_proj.weight": (D, q),
            p + "mlp.gate_proj.weight": (F, D),
            p + "mlp.up_proj.weight": (F, D),
            p + "mlp.down_proj.weight": (D, F),
        }
    if not hf["tie_word_embeddings"]:
        shapes["lm_head.weight"] = (V, D)
    return {
        name: (1 + rng.normal(0, 0.1, shape) if len(shape) == 1 else rng.normal(0, 0.02, shape)).astype(np.float32)
        for name, shape in shapes.items()
    }


def random_jax_llama(hf: dict, tensors: dict, precision=None) -> PretrainedDecoder:
    """The JAX decoder holding `tensors` (read through the package's own Llama loader)."""
    cfg = llama.config_from_hf(hf, name="random-llama")
    return PretrainedDecoder(cfg, llama.weights_from_hf(cfg, TensorSource(dict(tensors), "random weights")), precision)


def random_torch_llama(hf: dict, tensors: dict):
    """transformers' `LlamaForCausalLM` holding the same `tensors` (names checked strictly)."""
    import torch
    import transformers

    config = transformers.LlamaConfig(**{k: v for k, v in hf.items() if k != "model_type"})
    model = transformers.LlamaForCausalLM(config).float().eval()
    state = {name: torch.from_numpy(array) for name, array in tensors.items()}
    if hf["tie_word_embeddings"]:
        state["lm_head.weight"] = state["model.embed_tokens.weight"]
    model.load_state_dict(state, strict=True)
    return model
