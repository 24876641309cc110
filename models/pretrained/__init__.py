"""Pretrained language models in Flax NNX (Llama family, GPT-2, GPT-NeoX) with the toy model's interface,
loaded from GGUF files or Hugging Face safetensors directories."""

from models.pretrained.config import PretrainedConfig
from models.pretrained.errors import PretrainedError, UnsupportedModelError
from models.pretrained.load import SHIPPED, load_pretrained, resolve_model_path

__all__ = [
    "PretrainedConfig",
    "PretrainedError",
    "SHIPPED",
    "UnsupportedModelError",
    "load_pretrained",
    "resolve_model_path",
]
