"""Rendering a process's tokens as text: one tokenizer token per process token, optional separators.

Process token x becomes the model token `symbol_ids[x]`; with a separator, every symbol is followed by the
separator's tokens. The model is read where it has seen `x_0..x_t` (and the separator after `x_t`, if any) and
predicts `x_{t+1}`: the symbol's own position, or the last token of the separator that follows it.
"""

from dataclasses import dataclass

import numpy as np

from models.config import ConfigError

DEFAULT_SYMBOLS = tuple(f" {chr(ord('A') + i)}" for i in range(26))


class SymbolError(ConfigError):
    """A symbol map that does not fit the tokenizer or the process."""


def _ids(tokenizer, text: str) -> list[int]:
    return list(tokenizer.encode(text).ids)


@dataclass(frozen=True)
class SymbolMap:
    """Process token x <-> model token `ids[x]` (the text `symbols[x]`), and the separator's model tokens."""

    symbols: tuple[str, ...]
    ids: np.ndarray  # [V] int32
    separator: str
    separator_ids: np.ndarray  # [K] int32 (K = 0: no separator)

    @property
    def stride(self) -> int:
        """Model tokens per process token."""
        return 1 + len(self.separator_ids)

    def render(self, tokens_NxT: np.ndarray) -> np.ndarray:
        """Model token ids `[N, T * stride]`: each symbol followed by the separator's tokens."""
        tokens = np.asarray(tokens_NxT)
        sym = self.ids[tokens][..., None]
        sep = np.broadcast_to(self.separator_ids, tokens.shape + self.separator_ids.shape)
        return np.concatenate([sym, sep], axis=-1).reshape(len(tokens), -1).astype(np.int32)

    def readout_positions(self, length: int) -> np.ndarray:
        """`[T]`: the model position that has seen `x_0..x_t` (and its separator) for each t."""
        return np.arange(length) * self.stride + self.stride - 1


def symbol_map(tokenizer, vocab_size: int, symbols=None, separator: str = "") -> SymbolMap:
    """Validate `symbols` (default " A", " B", ...; the first `vocab_size` used) against the tokenizer: each must
    encode to exactly one token id and the ids must be distinct; the separator must encode to some tokens."""
    given = symbols is not None
    symbols = tuple(DEFAULT_SYMBOLS if symbols is None else symbols)
    if len(symbols) < vocab_size or (given and len(symbols) != vocab_size):
        raise SymbolError(
            f"symbols={list(symbols)!r} is invalid: the process has {vocab_size} tokens, so give "
            f"exactly {vocab_size} symbols"
        )
    symbols = symbols[:vocab_size]
    ids = []
    for symbol in symbols:
        if not isinstance(symbol, str) or not symbol:
            raise SymbolError(f"symbol {symbol!r} is invalid: a non-empty string")
        encoded = _ids(tokenizer, symbol)
        if len(encoded) != 1:
            raise SymbolError(
                f"symbol {symbol!r} is invalid: it encodes to {len(encoded)} tokens {encoded}, "
                "not exactly one (try a leading space, e.g. ' A')"
            )
        ids.append(encoded[0])
    for i, symbol in enumerate(symbols):
        if ids.index(ids[i]) != i:
            raise SymbolError(
                f"symbol {symbol!r} is invalid: it encodes to token {ids[i]}, the same as symbol "
                f"{symbols[ids.index(ids[i])]!r}; symbols must be distinct tokens"
            )
    separator_ids = _ids(tokenizer, separator) if separator else []
    if separator and not separator_ids:
        raise SymbolError(f"separator {separator!r} is invalid: it encodes to no tokens")
    if set(separator_ids) & set(ids):
        raise SymbolError(f"separator {separator!r} is invalid: it shares a token with the symbols")
    return SymbolMap(symbols, np.asarray(ids, np.int32), separator, np.asarray(separator_ids, np.int32))
