"""Damaged GGUF files (cut short, random bytes after a valid magic and version, an unknown tensor type, a
tensor whose shape does not fit) raise `PretrainedError` with one line naming the file, the fault and the
offset or tensor. The files are a tiny Llama written with the `gguf` package's writer, and the shipped
SmolLM2 file cut at 1 MB and 50 MB."""

import struct

import numpy as np
import pytest

from models.config import ConfigError
from models.pretrained import PretrainedError, load_pretrained

gguf = pytest.importorskip("gguf", reason="reading GGUF files needs the gguf package")

D, H, KV, DH, MLP, VOCAB = 32, 4, 2, 8, 48, 40


def write_tiny_llama(path, q_rows=H * DH):
    """A one-block Llama GGUF: F32 matrices, a Q8_0 embedding, a 40-token vocabulary with one merge."""
    rng = np.random.default_rng(0)
    r = lambda *shape: rng.normal(0, 0.3, shape).astype(np.float32)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_block_count(1)
    writer.add_context_length(64)
    writer.add_embedding_length(D)
    writer.add_feed_forward_length(MLP)
    writer.add_head_count(H)
    writer.add_head_count_kv(KV)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(10000.0)
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list([chr(ord("a") + i % 26) * (1 + i // 26) for i in range(VOCAB)])
    writer.add_token_types([1] * VOCAB)
    writer.add_token_merges(["a a"])
    embedding = gguf.quants.quantize(r(VOCAB, D), gguf.GGMLQuantizationType.Q8_0)
    writer.add_tensor("token_embd.weight", embedding, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    for name, shape in (
        ("attn_norm", (D,)),
        ("ffn_norm", (D,)),
        ("attn_q", (q_rows, D)),
        ("attn_k", (KV * DH, D)),
        ("attn_v", (KV * DH, D)),
        ("attn_output", (D, H * DH)),
        ("ffn_gate", (MLP, D)),
        ("ffn_up", (MLP, D)),
        ("ffn_down", (D, MLP)),
    ):
        writer.add_tensor(f"blk.0.{name}.weight", r(*shape))
    writer.add_tensor("output_norm.weight", r(D))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_tiny_llama(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


def cut(source, target, n_bytes):
    with open(source, "rb") as f:
        target.write_bytes(f.read(n_bytes))
    return target


def assert_one_line_error(path, *fragments):
    """Loading `path` raises `PretrainedError` (a `ConfigError`, shown by the CLI as one line) whose single-line
    message names the file and every fragment."""
    with pytest.raises(PretrainedError) as raised:
        load_pretrained(path)
    message = str(raised.value)
    assert isinstance(raised.value, ConfigError)
    assert "\n" not in message and str(path) in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


def test_the_undamaged_tiny_file_loads(tiny):
    model, tokenizer = load_pretrained(tiny)
    assert (model.config.n_layers, model.config.d_model, model.config.n_heads) == (1, D, H)
    logits, _ = model(np.array([[1, 2, 3]]))
    assert logits.shape == (1, 3, VOCAB) and np.isfinite(np.asarray(logits)).all()
    assert tokenizer.encode("aab").ids == [26, 1]  # the one merge "a a" -> "aa" (token 26), then "b"


def header_end(path):
    """Bytes before the data section: the file size minus the tensors' bytes (all F32 but the Q8_0 embedding)."""
    n_f32 = 2 * D + H * DH * D + 2 * KV * DH * D + D * H * DH + 3 * MLP * D + D
    n_q8 = VOCAB * D // 32 * 34
    return path.stat().st_size - 4 * n_f32 - n_q8


@pytest.mark.parametrize("where", ["in the counts", "in the metadata", "in the tensor index", "in the data"])
def test_a_tiny_file_cut_short_names_the_offset_or_the_tensor(tiny, tmp_path, where):
    end = header_end(tiny)
    n_bytes = {
        "in the counts": 12,
        "in the metadata": end // 3,
        "in the tensor index": end - 40,
        "in the data": end + 700,
    }[where]
    damaged = cut(tiny, tmp_path / "cut.gguf", n_bytes)
    if where == "in the data":
        message = assert_one_line_error(damaged, "tensor 'token_embd.weight'", f"file has {n_bytes} bytes")
    else:
        message = assert_one_line_error(damaged, "byte offset", "truncated")
    assert "reshape" not in message


def test_random_bytes_after_a_valid_magic_and_version(tmp_path):
    for seed in range(40):
        rng = np.random.default_rng(seed)
        path = tmp_path / f"random{seed}.gguf"
        path.write_bytes(b"GGUF" + struct.pack("<I", 3) + rng.bytes(int(rng.integers(0, 4000))))
        assert_one_line_error(path)


def test_tiny_counts_with_random_metadata_bytes(tmp_path):
    """Plausible counts get past the first checks, so the key/value parser meets the random bytes."""
    for seed in range(40):
        rng = np.random.default_rng(seed)
        path = tmp_path / f"random{seed}.gguf"
        path.write_bytes(
            b"GGUF"
            + struct.pack("<IQQ", 3, 1, 2)
            + struct.pack("<Q", 5)
            + b"key.a"
            + rng.bytes(int(rng.integers(0, 300)))
        )
        assert_one_line_error(path)


def test_files_too_short_for_a_header(tmp_path):
    for content in (b"", b"GGUF", b"GGUF\x03\x00\x00\x00"):
        path = tmp_path / f"short{len(content)}.gguf"
        path.write_bytes(content)
        assert_one_line_error(path)


def patch_after_name(source, target, name: bytes, field: str, value: int):
    """Copy `source` with one field of tensor `name`'s index entry overwritten: `type` (u32) or `ne0` (u64)."""
    raw = bytearray(source.read_bytes())
    at = raw.index(name) + len(name)
    n_dims = struct.unpack_from("<I", raw, at)[0]
    if field == "ne0":
        struct.pack_into("<Q", raw, at + 4, value)
    else:
        struct.pack_into("<I", raw, at + 4 + 8 * n_dims, value)
    target.write_bytes(bytes(raw))
    return target


def test_an_unknown_tensor_type_is_named(tiny, tmp_path):
    damaged = patch_after_name(tiny, tmp_path / "type.gguf", b"token_embd.weight", "type", 99)
    assert_one_line_error(damaged, "tensor 'token_embd.weight'", "unknown ggml type 99")


def test_a_row_that_is_not_whole_blocks_is_named(tiny, tmp_path):
    damaged = patch_after_name(tiny, tmp_path / "rows.gguf", b"token_embd.weight", "ne0", D + 1)
    assert_one_line_error(damaged, "tensor 'token_embd.weight'", f"rows of {D + 1} values", "block size 32")


def test_a_tensor_larger_than_the_file_is_named(tiny, tmp_path):
    damaged = patch_after_name(tiny, tmp_path / "large.gguf", b"blk.0.ffn_down.weight", "ne0", 10**9)
    assert_one_line_error(damaged, "tensor 'blk.0.ffn_down.weight'", "truncated")


def test_a_query_projection_that_does_not_split_into_heads_is_named(tmp_path):
    damaged = write_tiny_llama(tmp_path / "q.gguf", q_rows=H * DH - 4)
    assert_one_line_error(damaged, "tensor 'blk.0.attn_q.weight'", f"shape ({H * DH - 4}, {D})")


def test_a_query_projection_of_the_wrong_size_is_named(tmp_path):
    damaged = write_tiny_llama(tmp_path / "q.gguf", q_rows=H * DH + 8)
    assert_one_line_error(damaged, "self_attn.q_proj.weight", f"({H * DH + 8}, {D})")


def test_missing_block_count_is_named(tiny, tmp_path):
    raw = tiny.read_bytes().replace(b"llama.block_count", b"llama.block_cOunt")
    (tmp_path / "meta.gguf").write_bytes(raw)
    assert_one_line_error(tmp_path / "meta.gguf", "llama.block_count=None")


def test_the_cli_prints_one_line(tiny, tmp_path, capsys):
    from experiments.cli import main

    text = tmp_path / "text.txt"
    text.write_text("some text " * 50)
    damaged = cut(tiny, tmp_path / "cut.gguf", 100)
    code = main(
        [
            "lens-llm",
            "--model",
            str(damaged),
            "--text",
            str(text),
            "--output-dir",
            str(tmp_path / "run"),
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and str(damaged) in err and "byte offset" in err, err


@pytest.fixture(scope="module")
def smollm2():
    from models.pretrained.load import shipped_model_path

    try:
        return shipped_model_path("smollm2-135m")
    except PretrainedError as missing:
        pytest.skip(f"SmolLM2 is not installed ({missing})")


@pytest.mark.parametrize(
    "megabytes, fragments", [(1, ("byte offset", "truncated")), (50, ("tensor 'blk.", "file has 50000000 bytes"))]
)
def test_the_shipped_smollm2_cut_short(smollm2, tmp_path, megabytes, fragments):
    damaged = cut(smollm2, tmp_path / "smollm2-cut.gguf", megabytes * 1_000_000)
    assert_one_line_error(damaged, *fragments)
