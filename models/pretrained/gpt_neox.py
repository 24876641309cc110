"""GPT-NeoX (Pythia): LayerNorm, parallel residual, partial rotary, fused QKV laid out per head as
(heads, 3, head_dim), exact GELU, untied `embed_out`. Reads a Hugging Face `GPTNeoXConfig` dict and
`GPTNeoXForCausalLM` tensor names."""

from models.pretrained.config import PretrainedConfig, refuse_fields
from models.pretrained.tensors import TensorSource

BUFFERS = ("attention.bias", "attention.masked_bias", "rotary_emb.inv_freq")
_ACTIVATIONS = {"gelu": "gelu", "gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh"}


def config_from_hf(hf: dict, name: str = "") -> PretrainedConfig:
    """`PretrainedConfig` from a GPT-NeoX `config.json` dict; unsupported fields raise naming them."""
    rope = hf.get("rope_parameters") or {}
    refuse_fields(
        "gpt_neox",
        {**hf, "rope_type": rope.get("rope_type", "default")},
        {
            "hidden_act": lambda v: v in (None, *_ACTIVATIONS),
            "rope_scaling": lambda v: v is None or v.get("rope_type", v.get("type")) == "default",
            "rope_type": lambda v: v == "default",
            "attention_bias": lambda v: v in (None, True),
        },
    )
    d_model, n_heads = hf["hidden_size"], hf["num_attention_heads"]
    d_head = d_model // n_heads
    rotary_pct = rope.get("partial_rotary_factor", hf.get("partial_rotary_factor", hf.get("rotary_pct", 0.25)))
    return PretrainedConfig(
        architecture="gpt_neox",
        vocab_size=hf["vocab_size"],
        d_model=d_model,
        n_layers=hf["num_hidden_layers"],
        n_heads=n_heads,
        n_kv_heads=n_heads,
        d_head=d_head,
        d_mlp=hf["intermediate_size"],
        n_ctx=hf.get("max_position_embeddings", 2048),
        norm="layernorm",
        norm_eps=float(hf.get("layer_norm_eps", 1e-5)),
        act_fn=_ACTIVATIONS[hf.get("hidden_act") or "gelu"],
        gated_mlp=False,
        rotary_dim=int(d_head * rotary_pct),
        rope_theta=float(rope.get("rope_theta", hf.get("rotary_emb_base", 10000.0))),
        parallel_residual=bool(hf.get("use_parallel_residual", True)),
        tied_embeddings=bool(hf.get("tie_word_embeddings", False)),
        qkv_bias=True,
        out_bias=True,
        mlp_bias=True,
        name=name,
    )


def weights_from_hf(cfg: PretrainedConfig, source: TensorSource) -> dict:
    """This package's weight layout from `GPTNeoXForCausalLM` tensors (`[out, in]` matrices)."""
    D, F, H, Dh = cfg.d_model, cfg.d_mlp, cfg.n_heads, cfg.d_head

    def norm(name):
        return {"w": source.take(f"{name}.weight", (D,)), "b": source.take(f"{name}.bias", (D,))}

    blocks = []
    for layer in range(cfg.n_layers):
        p = f"gpt_neox.layers.{layer}."
        qkv_w_Hx3xDhxD = source.take(p + "attention.query_key_value.weight", (3 * D, D)).reshape(H, 3, Dh, D)
        qkv_b_Hx3xDh = source.take(p + "attention.query_key_value.bias", (3 * D,)).reshape(H, 3, Dh)
        attn = {f"W_{k}": qkv_w_Hx3xDhxD[:, i].reshape(H * Dh, D).T for i, k in enumerate("QKV")}
        attn |= {f"b_{k}": qkv_b_Hx3xDh[:, i].reshape(H * Dh) for i, k in enumerate("QKV")}
        attn["W_O"] = source.take(p + "attention.dense.weight", (D, D)).T
        attn["b_O"] = source.take(p + "attention.dense.bias", (D,))
        mlp = {
            "W_in": source.take(p + "mlp.dense_h_to_4h.weight", (F, D)).T,
            "b_in": source.take(p + "mlp.dense_h_to_4h.bias", (F,)),
            "W_out": source.take(p + "mlp.dense_4h_to_h.weight", (D, F)).T,
            "b_out": source.take(p + "mlp.dense_4h_to_h.bias", (D,)),
        }
        blocks.append(
            {"ln1": norm(p + "input_layernorm"), "ln2": norm(p + "post_attention_layernorm"), "attn": attn, "mlp": mlp}
        )
    weights = {
        "W_E": source.take("gpt_neox.embed_in.weight", (cfg.vocab_size, D)),
        "blocks": blocks,
        "ln_final": norm("gpt_neox.final_layer_norm"),
    }
    if cfg.tied_embeddings:
        source.drop("embed_out.weight")
    else:
        weights["W_U"] = source.take("embed_out.weight", (cfg.vocab_size, D)).T
    source.finish()
    return weights
