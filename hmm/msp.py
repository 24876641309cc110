"""The mixed-state presentation: every prefix, the belief after it, and its probability, level by level."""

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from hmm.blas import one_blas_thread
from hmm.errors import ProcessError
from hmm.process import Process

if TYPE_CHECKING:
    from hmm.states import DistinctStates

DEFAULT_MAX_BYTES = 4 * 2**30
ZERO_PROB = 1e-12  # conditional token probabilities at or below this are treated as impossible
DENSE_MAX_STATES = 32  # up to this many states, a mixture's belief update is one dense product, not one per block


@dataclass(frozen=True)
class MixedStatePresentation:
    """All prefixes of length 1..max_len with non-zero probability, ordered by length, then by code.

    `codes[i]` is prefix i read as a base-V integer (first token most significant); with `lengths[i]`
    it identifies the prefix. `beliefs[i]` is the posterior after the prefix, `probs[i]` its probability
    (each level sums to 1 unless `min_prob` pruned it). The empty prefix's belief is `root_belief`
    (the process's initial belief).
    """

    process: Process
    max_len: int
    codes: np.ndarray  # [N] int64
    lengths: np.ndarray  # [N] int32
    beliefs: np.ndarray  # [N, S] float64
    probs: np.ndarray  # [N] float64
    root_belief: np.ndarray  # [S]
    level_starts: np.ndarray  # [max_len + 1]: level k (length k+1) is rows level_starts[k]:level_starts[k+1]
    min_prob: float = 0.0
    state_tol: float = 1e-7

    @property
    def num_prefixes(self) -> int:
        return len(self.codes)

    def level(self, length: int) -> slice:
        """Rows holding the prefixes of exactly `length` tokens."""
        if not 1 <= length <= self.max_len:
            raise ValueError(f"length must be in [1, {self.max_len}], got {length}")
        return slice(int(self.level_starts[length - 1]), int(self.level_starts[length]))

    def tokens(self, rows) -> np.ndarray:
        """Decode the prefixes at `rows` (all of one length) into tokens `[M, length]`."""
        length = int(self.lengths[rows][0]) if len(self.lengths[rows]) else 0
        powers = self.process.vocab_size ** np.arange(length - 1, -1, -1, dtype=np.int64)
        return ((self.codes[rows][:, None] // powers) % self.process.vocab_size).astype(np.int32)

    def sequences(self, length: int):
        """Every non-zero sequence of exactly `length`: tokens `[M, L]`, probs `[M]`, beliefs `[M, L, S]`.

        `beliefs[:, t]` is the posterior after `x_0..x_t` (looked up from the shorter levels).
        """
        rows = self.level(length)
        tokens = self.tokens(rows)
        beliefs = np.empty((len(tokens), length, self.process.num_states))
        for k in range(1, length + 1):
            beliefs[:, k - 1] = self.beliefs[self.ancestor_rows(self.codes[rows], length, k)]
        return tokens, self.probs[rows], beliefs

    def ancestor_rows(self, codes: np.ndarray, length: int, ancestor_length: int) -> np.ndarray:
        """Rows of the length-`ancestor_length` prefixes of the given length-`length` prefix codes."""
        level = self.level(ancestor_length)
        prefix_codes = codes // self.process.vocab_size ** (length - ancestor_length)
        return level.start + np.searchsorted(self.codes[level], prefix_codes)

    @cached_property
    def states(self) -> "DistinctStates":
        """Distinct belief states (root included), merged within `state_tol` (max-norm grid)."""
        from hmm.states import distinct_states

        return distinct_states(self)


def estimate_bytes(num_prefixes: int, num_states: int) -> int:
    """Memory of the tree's arrays: codes, lengths, beliefs and probabilities."""
    return num_prefixes * (8 + 4 + 8 * num_states + 8)


def _block_advance(T: np.ndarray, blocks: tuple):
    """`(beliefs [N, S], out [N, V, S] or None) -> eta T[x] [N, V, S]` (written into `out` when given) as one
    matrix product `[N, S] @ [S, V*S]` whose rows are already in the output's layout.

    For a block-diagonal `T` (a mixture) with more than DENSE_MAX_STATES states: one product per block, each
    written into its slice of the output, its beliefs copied to a contiguous array first (numpy multiplies a
    strided slice without BLAS, ~10x slower). Up to that size the dense product, zeros included, is cheaper
    than those copies and strided writes (S = 9: ~3.5x faster per level); its sums may differ from the
    per-block ones in the last bit (BLAS orders them by its own blocking)."""
    V, S = T.shape[0], T.shape[1]
    per_block = [
        (start, stop, np.ascontiguousarray(T[:, start:stop, start:stop].transpose(1, 0, 2).reshape(stop - start, -1)))
        for start, stop in (blocks if S > DENSE_MAX_STATES else ((0, S),))
    ]
    if len(per_block) == 1:
        T_SxVS = per_block[0][2]

        def advance_dense(beliefs, out=None):
            out = np.empty((len(beliefs), V, S)) if out is None else out
            np.matmul(beliefs, T_SxVS, out=out.reshape(len(beliefs), V * S))
            return out

        return advance_dense

    def advance(beliefs, out=None):
        out = np.empty((len(beliefs), V, S)) if out is None else out
        for start, stop, T_SxVS in per_block:
            block_NxS = np.ascontiguousarray(beliefs[:, start:stop])
            out[:, :, start:stop] = (block_NxS @ T_SxVS).reshape(len(beliefs), V, stop - start)
        return out

    return advance


def mixed_state_presentation(
    process: Process, max_len: int, min_prob: float = 0.0, max_bytes: int = DEFAULT_MAX_BYTES
) -> MixedStatePresentation:
    """Build the prefix tree to depth `max_len`, vectorised one level at a time.

    Prefixes whose probability is below `min_prob` are dropped with their descendants. If the tree
    would exceed `max_bytes`, a ProcessError says how big it would be and what to change.
    """
    if not isinstance(max_len, (int, np.integer)) or max_len < 1:
        raise ProcessError(f"max_len must be a positive integer, got {max_len!r}")
    if not 0.0 <= min_prob < 1.0:
        raise ProcessError(f"min_prob must be in [0, 1), got {min_prob!r}")
    T, w = process.transition_matrices, process.right_vector
    V, S = process.vocab_size, process.num_states
    if V**max_len >= 2**62:
        raise ProcessError(
            f"max_len={max_len} is too deep for integer prefix codes with V={V}; use max_len <= {int(62 / np.log2(V))}"
        )
    advance = _block_advance(T, process.blocks)
    # level 1 projects the whole tree; deeper levels (pruned or not) project no more than that
    full_rows = sum(V**k for k in range(1, max_len + 1))
    if estimate_bytes(full_rows, S) > max_bytes:
        raise ProcessError(
            f"the mixed-state tree to depth {max_len} would hold up to {full_rows:,} prefixes"
            f" (~{estimate_bytes(full_rows, S) / 2**30:.1f} GiB, limit {max_bytes / 2**30:.1f} GiB);"
            f" use min_prob > 0 to prune improbable prefixes or a smaller max_len"
        )
    # every level's beliefs are computed in place in one array, so no level is copied again at the end
    store_RxS = np.empty((full_rows, S))
    codes, beliefs, probs = np.zeros(1, np.int64), process.initial_belief[None], np.ones(1)
    levels, total = [], 0
    with one_blas_thread():  # the products are small and memory-bound: BLAS threads only contend
        for _ in range(max_len):
            N = len(codes)
            next_NxVxS = advance(beliefs, store_RxS[total : total + N * V].reshape(N, V, S))
            cond_NxV = (next_NxVxS.reshape(-1, S) @ w).reshape(N, V)
            child_NxV = probs[:, None] * cond_NxV
            keep = (cond_NxV > ZERO_PROB) & (child_NxV >= min_prob)
            if keep.all():  # every child possible (full-support processes): reshapes instead of gathers
                codes = (codes[:, None] * V + np.arange(V)).ravel()
                beliefs = np.divide(next_NxVxS, cond_NxV[..., None], out=next_NxVxS).reshape(-1, S)
                probs = child_NxV.ravel()
            else:
                parent, token = np.nonzero(keep)
                codes = codes[parent] * V + token
                beliefs = next_NxVxS[parent, token] / cond_NxV[parent, token, None]
                probs = child_NxV[parent, token]
                store_RxS[total : total + len(codes)] = beliefs  # the kept rows moved to the front of the level
            levels.append((codes, probs))
            total += len(codes)
    sizes = [len(c) for c, _ in levels]
    return MixedStatePresentation(
        process=process,
        max_len=max_len,
        codes=np.concatenate([c for c, _ in levels]),
        lengths=np.repeat(np.arange(1, max_len + 1, dtype=np.int32), sizes),
        beliefs=store_RxS if total == full_rows else store_RxS[:total].copy(),
        probs=np.concatenate([p for _, p in levels]),
        root_belief=process.initial_belief,
        level_starts=np.concatenate([[0], np.cumsum(sizes)]),
        min_prob=min_prob,
    )
