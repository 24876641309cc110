"""GGUF loader (the `gguf` package): metadata -> config, tensors dequantised to float32 and renamed to the
Hugging Face layout (llama.cpp's Q/K row permutation undone), tokenizer from the file's vocabulary."""

from pathlib import Path

import numpy as np

from models.pretrained import llama
from models.pretrained.errors import PretrainedError, UnsupportedModelError
from models.pretrained.gguf_reader import check_tensor_data, read_gguf, tensor_float32
from models.pretrained.tensors import TensorSource
from models.pretrained.tokenizer import bpe_from_gguf_vocab

_LLAMA_BLOCK_NAMES = {
    "attn_norm": "input_layernorm",
    "ffn_norm": "post_attention_layernorm",
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}
_LLAMA_GLOBAL_NAMES = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}


def _gguf_package():
    try:
        import gguf
    except ImportError as error:
        raise PretrainedError(
            "reading GGUF files needs the gguf package: pip install gguf (or the project's `llm` extra)"
        ) from error
    return gguf


def unpermute_rotary_rows(w_OxI: np.ndarray, n_heads: int) -> np.ndarray:
    """Undo llama.cpp's reordering of a Q/K projection's rows: within each head the converter interleaves
    the two rotary halves (row `2i` <- `i`, `2i+1` <- `i + Dh/2`); this puts the halves back."""
    out, rest = w_OxI.shape[0], w_OxI.shape[1:]
    return w_OxI.reshape(n_heads, out // n_heads // 2, 2, *rest).swapaxes(1, 2).reshape(w_OxI.shape)


_REQUIRED_KEYS = (
    "block_count",
    "embedding_length",
    "feed_forward_length",
    "attention.head_count",
    "attention.layer_norm_rms_epsilon",
)


def _llama_hf_config(meta: dict, path: Path) -> dict:
    arch = meta["general.architecture"]

    def get(key, default=None):
        return meta.get(f"{arch}.{key}", default)

    for key in _REQUIRED_KEYS:
        if not isinstance(get(key), (int, float)) or get(key) <= 0:
            raise PretrainedError(
                f"{path}: GGUF metadata {arch}.{key}={get(key)!r} is missing or not a positive number"
            )
    n_heads = get("attention.head_count")
    d_model = get("embedding_length")
    head_dim = get("attention.key_length") or d_model // n_heads
    if get("rope.dimension_count", head_dim) != head_dim:
        raise UnsupportedModelError(
            f"GGUF {arch}.rope.dimension_count={get('rope.dimension_count')} "
            f"(partial rotary) is not supported for llama"
        )
    scaling = meta.get(f"{arch}.rope.scaling.type", "none")
    if scaling not in ("none", "linear") or get("rope.scaling.factor", 1.0) != 1.0:
        raise UnsupportedModelError(f"GGUF {arch}.rope.scaling is not supported")
    vocab = get("vocab_size") or len(meta["tokenizer.ggml.tokens"])
    return {
        "vocab_size": int(vocab),
        "hidden_size": int(d_model),
        "num_hidden_layers": int(get("block_count")),
        "num_attention_heads": int(n_heads),
        "num_key_value_heads": int(get("attention.head_count_kv", n_heads)),
        "head_dim": int(head_dim),
        "intermediate_size": int(get("feed_forward_length")),
        "max_position_embeddings": int(get("context_length", 2048)),
        "rms_norm_eps": float(get("attention.layer_norm_rms_epsilon")),
        "rope_theta": float(get("rope.freq_base", 10000.0)),
        "hidden_act": "silu",
    }


def _hf_tensor_name(gguf_name: str) -> str:
    stem, _, suffix = gguf_name.rpartition(".")
    if stem.startswith("blk."):
        _, layer, part = stem.split(".", 2)
        if part not in _LLAMA_BLOCK_NAMES:
            raise UnsupportedModelError(f"GGUF tensor {gguf_name!r} is not supported")
        return f"model.layers.{layer}.{_LLAMA_BLOCK_NAMES[part]}.{suffix}"
    if stem not in _LLAMA_GLOBAL_NAMES:
        raise UnsupportedModelError(f"GGUF tensor {gguf_name!r} is not supported")
    return f"{_LLAMA_GLOBAL_NAMES[stem]}.{suffix}"


def load_gguf(path):
    """`(PretrainedConfig, weights, tokenizer)` from a GGUF file of a Llama-family model."""
    path = Path(path)
    gguf = _gguf_package()
    meta, infos, data = read_gguf(path)
    arch = meta.get("general.architecture")
    if arch != "llama":
        raise UnsupportedModelError(f"GGUF general.architecture={arch!r} is not supported: expected 'llama'")
    hf = _llama_hf_config(meta, path)
    check_tensor_data(gguf, infos, data, path)
    arrays = {}
    for info in infos:
        name = _hf_tensor_name(info.name)
        array = tensor_float32(gguf, info, data, path)
        if name.endswith(("q_proj.weight", "k_proj.weight")):
            heads = hf["num_attention_heads"] if "q_proj" in name else hf["num_key_value_heads"]
            if array.ndim != 2 or array.shape[0] % (2 * heads):
                raise PretrainedError(
                    f"{path}: tensor {info.name!r} has shape {array.shape}: expected "
                    f"[{heads} heads x head size, d_model] with an even head size"
                )
            array = unpermute_rotary_rows(array, heads)
        arrays[name] = array
    hf["tie_word_embeddings"] = "lm_head.weight" not in arrays
    cfg = llama.config_from_hf(hf, name=meta.get("general.name", path.stem))
    weights = llama.weights_from_hf(cfg, TensorSource(arrays, f"GGUF file {path}"))
    tokenizer = _tokenizer(meta, path)
    return cfg, weights, tokenizer


def _tokenizer(meta: dict, path: Path):
    model = meta.get("tokenizer.ggml.model")
    if model != "gpt2":
        raise UnsupportedModelError(
            f"GGUF tokenizer.ggml.model={model!r} in {path} is not supported: expected 'gpt2' (byte-level BPE)"
        )
    if meta.get("tokenizer.ggml.add_bos_token", False):
        raise UnsupportedModelError(f"GGUF tokenizer.ggml.add_bos_token=True in {path} is not supported")
    for key in ("tokenizer.ggml.tokens", "tokenizer.ggml.merges"):
        if not isinstance(meta.get(key), list):
            raise PretrainedError(f"{path}: GGUF metadata {key} is missing or not a list")
    return bpe_from_gguf_vocab(
        meta["tokenizer.ggml.tokens"],
        meta["tokenizer.ggml.merges"],
        meta.get("tokenizer.ggml.token_type", []),
        meta.get("tokenizer.ggml.pre", "default"),
    )
