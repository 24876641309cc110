"""GPT-2: LayerNorm, learned positions, fused `c_attn` and Conv1D weights stored `[in, out]`, tanh GELU,
unembedding tied to `wte`. Reads a Hugging Face `GPT2Config` dict and `GPT2LMHeadModel` tensor names."""

import numpy as np

from models.pretrained.config import PretrainedConfig, refuse_fields
from models.pretrained.tensors import TensorSource

_ACTIVATIONS = {"gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh", "gelu": "gelu"}
BUFFERS = ("attn.bias", "attn.masked_bias")
PREFIX = "transformer."


def config_from_hf(hf: dict, name: str = "") -> PretrainedConfig:
    """`PretrainedConfig` from a GPT-2 `config.json` dict; unsupported fields raise naming them."""
    refuse_fields(
        "gpt2",
        hf,
        {
            "activation_function": lambda v: v in (None, *_ACTIVATIONS),
            "scale_attn_weights": lambda v: v in (None, True),
            "scale_attn_by_inverse_layer_idx": lambda v: v in (None, False),
            "add_cross_attention": lambda v: v in (None, False),
            "tie_word_embeddings": lambda v: v in (None, True),
        },
    )
    d_model, n_heads = hf["n_embd"], hf["n_head"]
    return PretrainedConfig(
        architecture="gpt2",
        vocab_size=hf["vocab_size"],
        d_model=d_model,
        n_layers=hf["n_layer"],
        n_heads=n_heads,
        n_kv_heads=n_heads,
        d_head=d_model // n_heads,
        d_mlp=hf.get("n_inner") or 4 * d_model,
        n_ctx=hf["n_positions"],
        norm="layernorm",
        norm_eps=float(hf.get("layer_norm_epsilon", 1e-5)),
        act_fn=_ACTIVATIONS[hf.get("activation_function") or "gelu_new"],
        gated_mlp=False,
        tied_embeddings=True,
        qkv_bias=True,
        out_bias=True,
        mlp_bias=True,
        name=name,
    )


def weights_from_hf(cfg: PretrainedConfig, source: TensorSource) -> dict:
    """This package's weight layout from GPT-2 tensors (names with or without `transformer.`)."""
    D, F = cfg.d_model, cfg.d_mlp

    def norm(name):
        return {"w": source.take(f"{name}.weight", (D,)), "b": source.take(f"{name}.bias", (D,))}

    blocks = []
    for layer in range(cfg.n_layers):
        p = f"h.{layer}."
        qkv_w = source.take(p + "attn.c_attn.weight", (D, 3 * D))
        qkv_b = source.take(p + "attn.c_attn.bias", (3 * D,))
        attn = {f"W_{k}": w for k, w in zip("QKV", np.split(qkv_w, 3, axis=1))}
        attn |= {f"b_{k}": b for k, b in zip("QKV", np.split(qkv_b, 3))}
        attn["W_O"] = source.take(p + "attn.c_proj.weight", (D, D))
        attn["b_O"] = source.take(p + "attn.c_proj.bias", (D,))
        mlp = {
            "W_in": source.take(p + "mlp.c_fc.weight", (D, F)),
            "b_in": source.take(p + "mlp.c_fc.bias", (F,)),
            "W_out": source.take(p + "mlp.c_proj.weight", (F, D)),
            "b_out": source.take(p + "mlp.c_proj.bias", (D,)),
        }
        blocks.append({"ln1": norm(p + "ln_1"), "ln2": norm(p + "ln_2"), "attn": attn, "mlp": mlp})
    weights = {
        "W_E": source.take("wte.weight", (cfg.vocab_size, D)),
        "W_pos": source.take("wpe.weight", (cfg.n_ctx, D)),
        "blocks": blocks,
        "ln_final": norm("ln_f"),
    }
    source.drop("lm_head.weight")
    source.finish()
    return weights
