"""What exactly was loaded: the checkpoint file, its digest, and (for GGUF) the quantisation read from the file."""

import collections
import hashlib
import json
import struct
from pathlib import Path

from models.pretrained.load import resolve_model_path


def _sha256(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def _safetensors_dtypes(files) -> dict:
    """How many tensors of each dtype the files hold, read from their JSON headers."""
    counts = collections.Counter()
    for file in files:
        with open(file, "rb") as f:
            header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
        counts.update(v["dtype"] for k, v in header.items() if k != "__metadata__")
    return dict(sorted(counts.items()))


def _gguf_facts(path: Path) -> dict:
    """`general.*` metadata, the file type's name (e.g. MOSTLY_Q4_1) and how many tensors of each ggml type."""
    import gguf

    from models.pretrained.gguf_reader import read_gguf

    meta, infos, _ = read_gguf(path)
    general = {
        k.removeprefix("general."): v
        for k, v in meta.items()
        if k.startswith("general.") and isinstance(v, (str, int, float))
    }
    file_type = meta.get("general.file_type")
    counts = collections.Counter(gguf.GGMLQuantizationType(i.ggml_type).name for i in infos)
    return {
        "metadata": general,
        "quantisation": gguf.LlamaFileType(file_type).name if file_type is not None else "unspecified",
        "tensor_types": dict(sorted(counts.items())),
    }


def describe_checkpoint(path_or_name) -> dict:
    """`{"path", "file", "bytes", "sha256", "format", ...}` of a model file or Hugging Face directory; a GGUF
    file adds its `general.*` metadata, `quantisation` (the file type named by the file) and `tensor_types`.
    A directory lists its safetensors files (weights as stored, no quantisation)."""
    path = resolve_model_path(path_or_name)
    if path.is_dir():
        files = sorted(path.glob("*.safetensors"))
        return {
            "path": str(path),
            "file": path.name,
            "format": "safetensors",
            "bytes": sum(f.stat().st_size for f in files),
            "files": [f.name for f in files],
            "sha256": {f.name: _sha256(f) for f in files},
            "quantisation": "none (as stored)",
            "tensor_types": _safetensors_dtypes(files),
        }
    info = {
        "path": str(path),
        "file": path.name,
        "format": path.suffix.lstrip(".").lower(),
        "bytes": path.stat().st_size,
        "sha256": _sha256(path),
    }
    if info["format"] == "gguf":
        info |= _gguf_facts(path)
    return info


def checkpoint_line(info: dict | None) -> str:
    """One line for reports and consoles: "SmolLM2-135M-Instruct.Q4_1.gguf (GGUF MOSTLY_Q4_1; tensors 210 Q4_1, 61
    F32, 1 Q8_0)", most frequent tensor type first; "–" when nothing was recorded."""
    if not info:
        return "–"
    fmt, quantisation = info.get("format", ""), info.get("quantisation") or ""
    kind = f"GGUF {quantisation}" if fmt == "gguf" else fmt  # a safetensors directory holds weights as stored
    counts = sorted((info.get("tensor_types") or {}).items(), key=lambda item: (-item[1], item[0]))
    tensors = f"; tensors {', '.join(f'{n} {t}' for t, n in counts)}" if counts else ""
    return f"{info['file']} ({kind}{tensors})"
