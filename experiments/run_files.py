"""Run-directory file writes: atomic (write a temp file, then rename) so a killed run leaves no torn file."""

import json
import os
from pathlib import Path

from analysis.atomic import atomic_file


def atomic_write_bytes(path, data: bytes) -> None:
    with atomic_file(path) as handle:
        handle.write(data)


def atomic_write_text(path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, default=float) + "\n")


def append_jsonl(path, record: dict) -> None:
    """Append one JSON line and flush it to disk (a killed run keeps every completed line)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(record, default=float) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_jsonl(path) -> list[dict]:
    """Every complete line of a JSON-lines file (a torn last line from a kill is ignored)."""
    path = Path(path)
    if not path.is_file():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
