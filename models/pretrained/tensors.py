"""`TensorSource`: a checkpoint's named arrays, handed out once each, so a missing or an unused tensor is an error."""

import numpy as np

from models.pretrained.errors import PretrainedError, UnsupportedModelError


class TensorSource:
    """Named float32 arrays; `take(name)` hands one out, `finish()` complains about any left over."""

    def __init__(self, arrays: dict, origin: str, ignore=()):
        self.arrays = {
            name: a for name, a in arrays.items() if not any(name == s or name.endswith("." + s) for s in ignore)
        }
        self.origin = origin

    def has(self, name: str) -> bool:
        return name in self.arrays

    def take(self, name: str, shape=None) -> np.ndarray:
        """The array called `name` as float32, checked against `shape` when given."""
        if name not in self.arrays:
            raise PretrainedError(f"{self.origin}: tensor {name!r} is missing")
        array = np.asarray(self.arrays.pop(name), np.float32)
        if shape is not None and tuple(array.shape) != tuple(shape):
            raise PretrainedError(
                f"{self.origin}: tensor {name!r} has shape {tuple(array.shape)}, the config implies {tuple(shape)}"
            )
        return array

    def drop(self, name: str):
        """Discard a tensor the model does not use (for example a tied output matrix)."""
        self.arrays.pop(name, None)

    def finish(self):
        """Raise if any tensor was not used: it belongs to a feature this implementation lacks."""
        if self.arrays:
            names = sorted(self.arrays)
            raise UnsupportedModelError(
                f"{self.origin}: unsupported tensor(s) {names[:5]}"
                + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            )


def strip_prefix(arrays: dict, prefix: str) -> dict:
    """Drop `prefix` from every name that has it (checkpoints saved with or without a wrapper)."""
    return {name[len(prefix) :] if name.startswith(prefix) else name: a for name, a in arrays.items()}
