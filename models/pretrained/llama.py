"""Llama family (Llama, SmolLM2): RMSNorm, rotary on the full head, SwiGLU MLP, grouped-query attention,
tied or untied embeddings. Reads a Hugging Face `LlamaConfig` dict and `LlamaForCausalLM` tensor names."""

from models.pretrained.config import PretrainedConfig, refuse_fields
from models.pretrained.tensors import TensorSource


def _rope_theta(hf: dict) -> float:
    params = hf.get("rope_parameters") or {}
    return float(params.get("rope_theta", hf.get("rope_theta", 10000.0)))


def config_from_hf(hf: dict, name: str = "") -> PretrainedConfig:
    """`PretrainedConfig` from a Llama `config.json` dict; unsupported fields raise naming them."""
    rope_type = (hf.get("rope_parameters") or {}).get("rope_type", "default")
    refuse_fields(
        "llama",
        {**hf, "rope_type": rope_type},
        {
            "hidden_act": lambda v: v in (None, "silu"),
            "rope_scaling": lambda v: v is None or v.get("rope_type", v.get("type")) == "default",
            "rope_type": lambda v: v == "default",
            "pretraining_tp": lambda v: v in (None, 1),
        },
    )
    d_model, n_heads = hf["hidden_size"], hf["num_attention_heads"]
    return PretrainedConfig(
        architecture="llama",
        vocab_size=hf["vocab_size"],
        d_model=d_model,
        n_layers=hf["num_hidden_layers"],
        n_heads=n_heads,
        n_kv_heads=hf.get("num_key_value_heads") or n_heads,
        d_head=hf.get("head_dim") or d_model // n_heads,
        d_mlp=hf["intermediate_size"],
        n_ctx=hf.get("max_position_embeddings", 2048),
        norm="rmsnorm",
        norm_eps=float(hf.get("rms_norm_eps", 1e-6)),
        act_fn="silu",
        gated_mlp=True,
        rotary_dim=hf.get("head_dim") or d_model // n_heads,
        rope_theta=_rope_theta(hf),
        tied_embeddings=bool(hf.get("tie_word_embeddings", False)),
        qkv_bias=bool(hf.get("attention_bias", False)),
        out_bias=bool(hf.get("attention_bias", False)),
        mlp_bias=bool(hf.get("mlp_bias", False)),
        name=name,
    )


def weights_from_hf(cfg: PretrainedConfig, source: TensorSource) -> dict:
    """This package's weight layout from `LlamaForCausalLM` tensors (`[out, in]` matrices, transposed here)."""
    D, V, Dh = cfg.d_model, cfg.vocab_size, cfg.d_head

    def linear(name, n_out, n_in, bias):
        w = source.take(f"{name}.weight", (n_out, n_in)).T
        return w, (source.take(f"{name}.bias", (n_out,)) if bias else None)

    blocks = []
    for layer in range(cfg.n_layers):
        p = f"model.layers.{layer}."
        attn = {}
        for key, proj, n_out, bias in (
            ("Q", "q_proj", cfg.n_heads * Dh, cfg.qkv_bias),
            ("K", "k_proj", cfg.n_kv_heads * Dh, cfg.qkv_bias),
            ("V", "v_proj", cfg.n_kv_heads * Dh, cfg.qkv_bias),
        ):
            attn[f"W_{key}"], attn[f"b_{key}"] = linear(p + "self_attn." + proj, n_out, D, bias)
        attn["W_O"], attn["b_O"] = linear(p + "self_attn.o_proj", D, cfg.n_heads * Dh, cfg.out_bias)
        mlp = {}
        mlp["W_gate"], _ = linear(p + "mlp.gate_proj", cfg.d_mlp, D, False)
        mlp["W_in"], mlp["b_in"] = linear(p + "mlp.up_proj", cfg.d_mlp, D, cfg.mlp_bias)
        mlp["W_out"], mlp["b_out"] = linear(p + "mlp.down_proj", D, cfg.d_mlp, cfg.mlp_bias)
        blocks.append(
            {
                "ln1": {"w": source.take(p + "input_layernorm.weight", (D,))},
                "ln2": {"w": source.take(p + "post_attention_layernorm.weight", (D,))},
                "attn": attn,
                "mlp": mlp,
            }
        )
    weights = {
        "W_E": source.take("model.embed_tokens.weight", (V, D)),
        "blocks": blocks,
        "ln_final": {"w": source.take("model.norm.weight", (D,))},
    }
    if cfg.tied_embeddings:
        source.drop("lm_head.weight")
    else:
        weights["W_U"] = source.take("lm_head.weight", (V, D)).T
    source.finish()
    return weights


BUFFERS = ("rotary_emb.inv_freq",)
