"""A fast reader for GGUF headers (metadata and tensor index); the `gguf` package dequantises the data.

`gguf.GGUFReader` builds a numpy view per vocabulary string (about 20 s for a 49k-token vocabulary on
2 cores); reading the header sequentially with `struct` takes a fraction of a second.
Layout (GGUF v2/v3, little-endian): magic `GGUF`, u32 version, u64 tensor count, u64 key count,
key/value pairs, tensor infos (name, u32 n_dims, u64 dims[ne0 first], u32 type, u64 offset), then
the data section at the next multiple of `general.alignment` (default 32).

A damaged file (cut short, random bytes, an unknown value or tensor type, a tensor whose bytes do not fit)
raises `PretrainedError` with one line naming the file, what is wrong and the byte offset or the tensor.
"""

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.pretrained.errors import PretrainedError

# GGUF value type -> struct format (8 = string, 9 = array handled separately)
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9
_MAX_DIMS = 4  # ggml tensors have at most four dimensions


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple  # numpy order (slowest axis first), i.e. GGUF dims reversed
    ggml_type: int
    offset: int  # absolute byte offset in the file


class _Cursor:
    """Sequential little-endian reads that raise `PretrainedError` (file and offset) instead of running off the end."""

    def __init__(self, buffer: memoryview, path: Path):
        self.buffer, self.pos, self.path = buffer, 0, path

    def fail(self, what: str):
        raise PretrainedError(f"{self.path}: damaged GGUF header at byte offset {self.pos}: {what}")

    def need(self, n_bytes: int, what: str):
        if n_bytes > len(self.buffer) - self.pos:
            self.fail(
                f"{what} needs {n_bytes} bytes but the file ends after {len(self.buffer) - self.pos} "
                f"(file size {len(self.buffer)}; truncated?)"
            )

    def read(self, fmt: str, what: str = "a number"):
        self.need(struct.calcsize("<" + fmt), what)
        value = struct.unpack_from("<" + fmt, self.buffer, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return value[0]

    def string(self, what: str = "a string") -> str:
        n = self.read("Q", f"the length of {what}")
        self.need(n, f"{what} of {n} bytes")
        text = bytes(self.buffer[self.pos : self.pos + n]).decode("utf-8", errors="replace")
        self.pos += n
        return text

    def value(self, kind: int, key: str):
        if kind == _STRING:
            return self.string(f"the value of {key!r}")
        if kind == _ARRAY:
            item_kind, n = self.read("I", f"the item type of {key!r}"), self.read("Q", f"the length of {key!r}")
            if item_kind in _SCALARS and item_kind != 7:
                dtype = np.dtype("<" + _SCALARS[item_kind])
                self.need(n * dtype.itemsize, f"the {n} items of {key!r}")
                items = np.frombuffer(self.buffer, dtype, n, self.pos)
                self.pos += n * dtype.itemsize
                return items.tolist()
            if item_kind not in (*_SCALARS, _STRING, _ARRAY):
                self.fail(f"array {key!r} has unknown item type {item_kind}")
            self.need(n, f"the {n} items of {key!r}")  # every item takes at least one byte
            return [self.value(item_kind, key) for _ in range(n)]
        if kind not in _SCALARS:
            self.fail(f"key {key!r} has unknown value type {kind}: expected 0..12")
        return self.read(_SCALARS[kind], f"the value of {key!r}")

    def count(self, what: str, min_bytes_each: int) -> int:
        """A u64 count, refused when that many items (each at least `min_bytes_each` bytes) cannot fit."""
        n = self.read("Q", what)
        if n * min_bytes_each > len(self.buffer) - self.pos:
            self.fail(f"{what} is {n}, more than the {len(self.buffer) - self.pos} bytes left can hold")
        return n


def read_gguf(path: Path):
    """`(metadata dict, [TensorInfo], memory-mapped file bytes)`; a damaged header raises `PretrainedError`."""
    path = Path(path)
    if path.stat().st_size < 8:
        raise PretrainedError(f"{path} is not a GGUF file: {path.stat().st_size} bytes, too short for a header")
    data = np.memmap(path, dtype=np.uint8, mode="r")
    cursor = _Cursor(memoryview(data), path)
    if bytes(data[:4]) != b"GGUF":
        raise PretrainedError(f"{path} is not a GGUF file (no GGUF magic)")
    cursor.pos = 4
    version = cursor.read("I")
    if version not in (2, 3):
        raise PretrainedError(f"{path}: GGUF version {version} is not supported: expected 2 or 3")
    n_tensors = cursor.count("the tensor count", 8 + 4 + 4 + 8)
    n_keys = cursor.count("the metadata key count", 8 + 4)
    metadata = {}
    for _ in range(n_keys):
        key = cursor.string("a metadata key")
        metadata[key] = cursor.value(cursor.read("I", f"the value type of {key!r}"), key)
    infos = [_tensor_info(cursor) for _ in range(n_tensors)]
    alignment = metadata.get("general.alignment", 32)
    if not isinstance(alignment, int) or alignment <= 0:
        raise PretrainedError(f"{path}: general.alignment={alignment!r} must be a positive integer")
    start = -(-cursor.pos // alignment) * alignment
    return metadata, [TensorInfo(n, s, t, start + o) for n, s, t, o in infos], data


def _tensor_info(cursor: _Cursor) -> tuple:
    name = cursor.string("a tensor name")
    n_dims = cursor.read("I", f"the dimension count of tensor {name!r}")
    if not 1 <= n_dims <= _MAX_DIMS:
        cursor.fail(f"tensor {name!r} has {n_dims} dimensions: expected 1..{_MAX_DIMS}")
    dims = [cursor.read("Q", f"the dimensions of tensor {name!r}") for _ in range(n_dims)]
    if 0 in dims:
        cursor.fail(f"tensor {name!r} has a zero dimension {dims}")
    kind = cursor.read("I", f"the type of tensor {name!r}")
    return name, tuple(reversed(dims)), kind, cursor.read("Q", f"the data offset of tensor {name!r}")


def tensor_nbytes(gguf, info: TensorInfo, path: Path) -> int:
    """Bytes of `info`'s data; an unknown type or a row that is not a whole number of blocks raises."""
    try:
        kind = gguf.GGMLQuantizationType(info.ggml_type)
        block_size, type_size = gguf.GGML_QUANT_SIZES[kind]
    except (ValueError, KeyError):
        raise PretrainedError(f"{path}: tensor {info.name!r} has unknown ggml type {info.ggml_type}") from None
    if info.shape[-1] % block_size:
        raise PretrainedError(
            f"{path}: tensor {info.name!r} of type {kind.name} has rows of {info.shape[-1]} "
            f"values, not a multiple of its block size {block_size}"
        )
    return int(np.prod(info.shape, dtype=object)) // block_size * type_size


def check_tensor_data(gguf, infos: list, data, path: Path):
    """Raise naming the first tensor whose type is unknown or whose bytes lie outside the file."""
    for info in infos:
        end = info.offset + tensor_nbytes(gguf, info, path)
        if end > len(data):
            raise PretrainedError(
                f"{path}: tensor {info.name!r} {info.shape} occupies bytes {info.offset}..{end} "
                f"but the file has {len(data)} bytes (truncated?)"
            )


def tensor_float32(gguf, info: TensorInfo, data, path: Path) -> np.ndarray:
    """One tensor dequantised to float32 in numpy order (rows = GGUF's last dimension)."""
    check_tensor_data(gguf, [info], data, path)
    kind = gguf.GGMLQuantizationType(info.ggml_type)
    block_size, type_size = gguf.GGML_QUANT_SIZES[kind]
    raw = np.asarray(data[info.offset : info.offset + tensor_nbytes(gguf, info, path)])
    rows = raw.reshape(-1, info.shape[-1] // block_size * type_size)
    return gguf.quants.dequantize(rows, kind).astype(np.float32).reshape(info.shape)
