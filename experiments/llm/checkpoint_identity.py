"""Which checkpoint file a pretrained model came from, and its quantisation, read from the file itself."""

import json
import struct
from collections import Counter
from pathlib import Path


def _gguf_identity(path: Path) -> dict:
    import gguf

    reader = gguf.GGUFReader(path)
    field = reader.fields.get("general.file_type")
    file_type = None
    if field is not None:
        code = int(field.parts[field.data[0]][0])
        try:
            file_type = gguf.LlamaFileType(code).name
        except ValueError:
            file_type = f"file type {code}"
    return {"file": path.name, "path": str(path), "format": "GGUF", "file_type": file_type,
            "tensor_types": dict(Counter(t.tensor_type.name for t in reader.tensors).most_common())}


def _safetensors_identity(directory: Path) -> dict:
    counts = Counter()
    for file in sorted(directory.glob("*.safetensors")):
        with open(file, "rb") as f:
            header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
        counts.update(v["dtype"] for k, v in header.items() if k != "__metadata__")
    return {"file": directory.name, "path": str(directory), "format": "safetensors", "file_type": None,
            "tensor_types": dict(counts.most_common())}


def checkpoint_identity(path) -> dict:
    """`{file, path, format, file_type, tensor_types {type: count}}` of a .gguf file (its `general.file_type`
    and tensor types) or a Hugging Face safetensors directory (its tensors' dtypes)."""
    path = Path(path)
    return _safetensors_identity(path) if path.is_dir() else _gguf_identity(path)


def describe_checkpoint(identity: dict | None) -> str:
    """One line: "SmolLM2-135M-Instruct.Q4_1.gguf (GGUF MOSTLY_Q4_1; tensors 210 Q4_1, 61 F32, 1 Q8_0)"."""
    if not identity:
        return "–"
    kind = " ".join(x for x in (identity["format"], identity.get("file_type")) if x)
    tensors = ", ".join(f"{n} {t}" for t, n in identity.get("tensor_types", {}).items())
    return f"{identity['file']} ({kind}; tensors {tensors})"
