"""`PretrainedConfig`: one architecture description shared by the Llama, GPT-2 and GPT-NeoX modules."""

from dataclasses import dataclass

from models.pretrained.errors import UnsupportedModelError

ARCHITECTURES = ("llama", "gpt2", "gpt_neox")
NORMS = ("rmsnorm", "layernorm")
ACTIVATIONS = ("silu", "gelu", "gelu_tanh")


@dataclass(frozen=True)
class PretrainedConfig:
    """Sizes and variants of a pre-norm decoder. `rotary_dim=0` means learned absolute positions."""

    architecture: str
    vocab_size: int
    d_model: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    d_head: int
    d_mlp: int
    n_ctx: int
    norm: str
    norm_eps: float
    act_fn: str
    gated_mlp: bool
    rotary_dim: int = 0
    rope_theta: float = 10000.0
    parallel_residual: bool = False
    tied_embeddings: bool = False
    qkv_bias: bool = False
    out_bias: bool = False
    mlp_bias: bool = False
    unembed_bias: bool = False
    name: str = ""

    def __post_init__(self):
        for field, value, allowed in (
            ("architecture", self.architecture, ARCHITECTURES),
            ("norm", self.norm, NORMS),
            ("act_fn", self.act_fn, ACTIVATIONS),
        ):
            if value not in allowed:
                raise UnsupportedModelError(f"{field}={value!r} is not supported: expected one of {list(allowed)}")
        if self.n_heads % self.n_kv_heads:
            raise UnsupportedModelError(f"n_heads={self.n_heads} is not a multiple of n_kv_heads={self.n_kv_heads}")
        if self.rotary_dim % 2 or self.rotary_dim > self.d_head:
            raise UnsupportedModelError(f"rotary_dim={self.rotary_dim} must be even and <= d_head={self.d_head}")


def refuse_fields(architecture: str, hf_config: dict, expected: dict):
    """Raise naming the first config field whose value this implementation does not handle.

    `expected` maps a field name to a predicate that accepts the supported values (absent counts as
    supported when the predicate accepts None)."""
    for field, supported in expected.items():
        value = hf_config.get(field)
        if not supported(value):
            raise UnsupportedModelError(f"{architecture} config field {field}={value!r} is not supported")
