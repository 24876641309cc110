"""`describe_checkpoint`: a GGUF file written here with the gguf package (file type, tensor types, name), and
the digest against hashlib."""

import hashlib

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")

from models.pretrained.describe import describe_checkpoint


def test_gguf_quantisation_and_name_come_from_the_file(tmp_path):
    path = tmp_path / "tiny.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("Tiny Test Model")
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_1)
    writer.add_tensor("a.weight", np.ones((4, 32), np.float32))
    writer.add_tensor("b.weight", np.ones((2, 32), np.float16))
    writer.add_tensor("c.weight", np.ones(32, np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    info = describe_checkpoint(path)
    assert info["file"] == "tiny.gguf" and info["format"] == "gguf"
    assert info["metadata"]["name"] == "Tiny Test Model" and info["quantisation"] == "MOSTLY_Q4_1"
    assert info["tensor_types"] == {"F16": 1, "F32": 2}
    assert info["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() and info["bytes"] == path.stat().st_size
