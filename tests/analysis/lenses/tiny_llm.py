"""A tiny random Llama (byte vocabulary) and a byte-level tokenizer, built in memory for the LLM lens tests."""

import numpy as np

from models.pretrained.config import PretrainedConfig
from models.pretrained.decoder import PretrainedDecoder

D, N_LAYERS, V = 16, 3, 256


def tiny_llama(seed: int = 0, n_ctx: int = 64) -> PretrainedDecoder:
    rng = np.random.default_rng(seed)
    r = lambda *shape: rng.normal(0, 0.5, shape)
    block = lambda: {
        "ln1": {"w": 1 + r(D)},
        "ln2": {"w": 1 + r(D)},
        "attn": {"W_Q": r(D, D), "W_K": r(D, 8), "W_V": r(D, 8), "W_O": r(D, D)},
        "mlp": {"W_gate": r(D, 24), "W_in": r(D, 24), "W_out": r(24, D)},
    }
    cfg = PretrainedConfig(
        architecture="llama",
        vocab_size=V,
        d_model=D,
        n_layers=N_LAYERS,
        n_heads=4,
        n_kv_heads=2,
        d_head=4,
        d_mlp=24,
        n_ctx=n_ctx,
        norm="rmsnorm",
        norm_eps=1e-5,
        act_fn="silu",
        gated_mlp=True,
        rotary_dim=4,
        rope_theta=10000.0,
        tied_embeddings=True,
    )
    return PretrainedDecoder(
        cfg, {"W_E": r(V, D), "blocks": [block() for _ in range(N_LAYERS)], "ln_final": {"w": 1 + r(D)}}
    )


def byte_tokenizer():
    """Byte-level BPE with no merges: one token per byte (ids 0..255 in the byte-level alphabet's order)."""
    import tokenizers

    alphabet = sorted(tokenizers.pre_tokenizers.ByteLevel.alphabet())
    tok = tokenizers.Tokenizer(tokenizers.models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = tokenizers.decoders.ByteLevel()
    return tok


TEXT = "".join(f"Line {i}: the quick brown fox jumps over the lazy dog; {i * 7 % 13} hens.\n" for i in range(80))
