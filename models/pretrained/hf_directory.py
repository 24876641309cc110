"""Hugging Face checkpoint directories: `config.json` + `*.safetensors` (sharded index included),
tokenizer from `tokenizer.json`."""

import json
from pathlib import Path

from models.pretrained import gpt2, gpt_neox, llama
from models.pretrained.errors import PretrainedError, UnsupportedModelError
from models.pretrained.tensors import TensorSource, strip_prefix
from models.pretrained.tokenizer import tokenizer_from_json

ARCHITECTURES = {"llama": llama, "gpt2": gpt2, "gpt_neox": gpt_neox}
INDEX = "model.safetensors.index.json"


def safetensors_files(directory: Path) -> list[Path]:
    """The weight files: the shards an index names, else `model.safetensors`, else every `*.safetensors`."""
    index = directory / INDEX
    if index.exists():
        shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        missing = [s for s in shards if not (directory / s).exists()]
        if missing:
            raise PretrainedError(f"{index} names shard(s) {missing} that are not in {directory}")
        return [directory / s for s in shards]
    return sorted(directory.glob("*.safetensors"))


def read_tensors(files: list[Path]) -> dict:
    """Every tensor in the files as numpy arrays."""
    try:
        from safetensors.numpy import load_file
    except ImportError as error:
        raise PretrainedError(
            "reading safetensors needs the safetensors package: pip install safetensors (or the project's `llm` extra)"
        ) from error
    arrays = {}
    for file in files:
        arrays.update(load_file(str(file)))
    return arrays


def load_hf_directory(directory):
    """`(PretrainedConfig, weights, tokenizer or None)` from a Hugging Face checkpoint directory."""
    directory = Path(directory)
    config_path = directory / "config.json"
    if not config_path.exists():
        raise PretrainedError(f"{directory} has no config.json: expected a Hugging Face checkpoint directory")
    hf = json.loads(config_path.read_text())
    model_type = hf.get("model_type")
    if model_type not in ARCHITECTURES:
        raise UnsupportedModelError(
            f"{config_path}: model_type={model_type!r} is not supported: expected one of {sorted(ARCHITECTURES)}"
        )
    files = safetensors_files(directory)
    if not files:
        raise PretrainedError(f"{directory} has no *.safetensors weights")
    module = ARCHITECTURES[model_type]
    cfg = module.config_from_hf(hf, name=directory.name)
    arrays = read_tensors(files)
    if getattr(module, "PREFIX", None):
        arrays = strip_prefix(arrays, module.PREFIX)
    weights = module.weights_from_hf(cfg, TensorSource(arrays, f"checkpoint {directory}", ignore=module.BUFFERS))
    tokenizer_path = directory / "tokenizer.json"
    return cfg, weights, tokenizer_from_json(tokenizer_path) if tokenizer_path.exists() else None
