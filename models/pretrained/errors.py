"""Errors raised while reading a pretrained checkpoint (one-line messages, shown by the CLI as such)."""

from models.config import ConfigError


class PretrainedError(ConfigError):
    """A checkpoint cannot be read: wrong path, unsafe format, missing tensor, missing package."""


class UnsupportedModelError(PretrainedError):
    """The checkpoint's architecture or one of its config fields is not implemented; the message names it."""
