"""Distinct prefixes aligned with model input positions: exact from the mixed-state tree, or de-duplicated samples.

Alignment (docs/design.md): input position t has seen x_0..x_t, so a prefix of length k is read at position k - 1
(k with a BOS token, whose own position 0 holds the stationary belief). Each distinct prefix appears once.
"""

from dataclasses import dataclass
from types import SimpleNamespace

import jax
import numpy as np

import hmm
from analysis.figures.simplex import MAX_CATEGORIES
from models.data import context_length, inputs_from_context

MAX_TREE_SEQUENCES = 2**17  # exact tree when at most this many full-context sequences can exist
NUM_SAMPLES = 2**14  # else this many sampled sequences (~10^5 distinct prefixes at context 10-14)
SAMPLED_CLASS_TOL = 1e-4  # sampled beliefs are float32: merge classes on a coarser grid than the exact tree's


@dataclass(frozen=True)
class PrefixSet:
    """Each distinct prefix once, where a model shows its activation, and its targets.

    Row i is read at input position `positions[i]` of sequence `sequence_index[i]` of `inputs_MxL` (with a causal
    mask every sequence extending the prefix gives the same activation, so one suffices). `probs` is P(prefix),
    exact or empirical, each length summing to 1. `counts[i]` is how many of the run sequences of full context
    length extend prefix i: the token-level duplication the original paper's unweighted fit had.
    """

    process: hmm.Process
    source: str  # "tree" or "sampled"
    context_length: int  # process tokens in a full context
    bos: bool
    inputs_MxL: np.ndarray  # int32 model inputs, BOS prepended when used
    sequence_index: np.ndarray  # [N]
    positions: np.ndarray  # [N]
    lengths: np.ndarray  # [N] process tokens seen (0: the BOS position)
    codes: np.ndarray  # [N] base-V codes, first token most significant
    beliefs: np.ndarray  # [N, S] float64
    probs: np.ndarray  # [N]
    counts: np.ndarray  # [N]
    class_ids: np.ndarray | None  # [N] distinct-belief class, when there are at most MAX_CATEGORIES

    @property
    def num_prefixes(self) -> int:
        return len(self.codes)

    def weights(self, weighting: str = "prob") -> np.ndarray:
        """Regression weights: `prob` (docs/design.md), `paper` (token-level duplication), or `uniform`."""
        if weighting == "prob":
            return self.probs
        if weighting == "paper":
            return self.counts.astype(np.float64)
        if weighting == "uniform":
            return np.ones(self.num_prefixes)
        raise ValueError(f"weighting={weighting!r} is invalid: use 'prob', 'paper' or 'uniform'")

    def effective_sample_size(self, weighting: str = "prob") -> float:
        """Kish's effective number of prefixes under the weights, `(sum w)^2 / sum w^2`."""
        w = self.weights(weighting)
        return float(w.sum() ** 2 / (w * w).sum())


def input_layout(model=None, n_ctx: int | None = None, bos: bool | None = None):
    """The model's input convention (`n_ctx`, `bos`, `bos_token`), from `model.config` and/or overrides."""
    cfg = getattr(model, "config", None)
    n_ctx = n_ctx if n_ctx is not None else getattr(cfg, "n_ctx", None)
    if n_ctx is None:
        raise ValueError("the model has no .config.n_ctx: pass n_ctx (and bos) explicitly")
    bos = bool(getattr(cfg, "bos", False)) if bos is None else bool(bos)
    bos_token = getattr(cfg, "bos_token", None)
    if bos and bos_token is None:
        raise ValueError("bos=True needs a model config with a bos_token")
    return SimpleNamespace(n_ctx=int(n_ctx), bos=bos, bos_token=bos_token)


def _decode(codes_M: np.ndarray, vocab_size: int, length: int) -> np.ndarray:
    powers = vocab_size ** np.arange(length - 1, -1, -1, dtype=np.int64)
    return ((codes_M[:, None] // powers) % vocab_size).astype(np.int32)


def _prepend_root(rows: dict, root: dict) -> dict:
    """Prepend the BOS position's row (the empty prefix) to every per-row array."""
    return {
        k: v if v is None else np.concatenate([np.asarray(root[k])[None], v]).astype(v.dtype) for k, v in rows.items()
    }


def root_state(process) -> np.ndarray:
    """The state before any token: a process's initial belief; for the Dirichlet Markov family (no finite
    states; its state is the posterior-mean transition matrix, flattened) the prior mean, uniform rows."""
    if isinstance(process, hmm.Process):
        return process.initial_belief
    return np.full(process.vocab_size**2, 1.0 / process.vocab_size)


def sampled_states(process, key, num_sequences: int, length: int):
    """Sampled tokens `[N, L]` and the state after each `[N, L, S]`: beliefs for an `hmm.Process`; for the
    Dirichlet Markov family the posterior-mean transition matrix (`[N, L, V*V]`)."""
    if isinstance(process, hmm.Process):
        tokens, beliefs = hmm.sample(process, key, num_sequences, length)
        return np.asarray(tokens), np.asarray(beliefs, np.float64)
    tokens = np.asarray(process.sample(key, num_sequences, length))
    return tokens, np.asarray(process.posterior_mean(tokens), np.float64).reshape(num_sequences, length, -1)


def _assemble(process, source, layout, tokens_MxC, rows, root_class) -> PrefixSet:
    rows = dict(rows, positions=rows["lengths"] - 1 + int(layout.bos))
    if layout.bos:
        rows = _prepend_root(
            rows,
            dict(
                sequence_index=0,
                positions=0,
                lengths=0,
                codes=0,
                probs=1.0,
                counts=len(tokens_MxC),
                beliefs=root_state(process),
                class_ids=root_class,
            ),
        )
    inputs = np.asarray(inputs_from_context(tokens_MxC, layout), np.int32)
    return PrefixSet(
        process=process, source=source, context_length=context_length(layout), bos=layout.bos, inputs_MxL=inputs, **rows
    )


def tree_prefixes(tree: hmm.MixedStatePresentation, layout) -> PrefixSet:
    """Every prefix of the tree up to the context length, each read from its first (lowest-code) extension.

    A prefix with no extension of full length (possible only in a pruned tree) gets its own zero-padded sequence.
    """
    C = context_length(layout)
    if tree.max_len < C:
        raise ValueError(f"the tree reaches depth {tree.max_len}, the model's context holds {C} tokens")
    V = tree.process.vocab_size
    rows = slice(0, int(tree.level_starts[C]))
    codes, lengths = tree.codes[rows], tree.lengths[rows].astype(np.int64)
    leaf_codes = tree.codes[tree.level(C)]
    scale = V ** (C - lengths)
    first = np.searchsorted(leaf_codes, codes * scale)
    counts = np.searchsorted(leaf_codes, (codes + 1) * scale) - first
    padded = counts == 0
    sequence_index = np.where(padded, len(leaf_codes) + np.cumsum(padded) - 1, first)
    tokens = _decode(np.concatenate([leaf_codes, codes[padded] * scale[padded]]), V, C)
    states = tree.states
    finite = states.is_finite and states.num_states <= MAX_CATEGORIES
    class_ids = states.prefix_state[rows] if finite else None
    fields = dict(
        sequence_index=sequence_index,
        lengths=lengths,
        codes=codes,
        beliefs=tree.beliefs[rows],
        probs=tree.probs[rows],
        counts=counts,
        class_ids=class_ids,
    )
    return _assemble(tree.process, "tree", layout, tokens, fields, root_class=0)


def prefix_codes(tokens_MxC: np.ndarray, vocab_size: int) -> np.ndarray:
    """`codes[m, t]`: the prefix `x_0..x_t` of row m as a base-V integer (first token most significant)."""
    tokens_MxC = np.asarray(tokens_MxC, np.int64)
    codes = np.empty_like(tokens_MxC)
    codes[:, 0] = tokens_MxC[:, 0]
    for t in range(1, tokens_MxC.shape[1]):  # a loop over positions, vectorised over sequences
        codes[:, t] = codes[:, t - 1] * vocab_size + tokens_MxC[:, t]
    return codes


def distinct_prefixes(tokens_MxC: np.ndarray, vocab_size: int):
    """De-duplicate every prefix of every row: `(sequence, position, count)` of each distinct prefix.

    Prefixes come out ordered by length, then code (the tree's order); `count` is how many rows contain it.
    """
    M, C = tokens_MxC.shape
    if float(vocab_size) ** C >= 2**62:
        raise ValueError(f"prefix codes overflow int64 for vocab {vocab_size} and context {C}")
    offsets = np.concatenate([[0], np.cumsum(vocab_size ** np.arange(1, C, dtype=np.int64))])
    ids = prefix_codes(tokens_MxC, vocab_size) + offsets  # unique across lengths, increasing with length
    _, first, count = np.unique(ids.ravel(), return_index=True, return_counts=True)
    sequence, position = np.divmod(first, C)
    return sequence, position, count


def sampled_prefixes(process: hmm.Process, key, num_sequences: int, layout) -> PrefixSet:
    """Distinct prefixes of `num_sequences` sampled sequences, weighted by their empirical frequency (see
    `sampled_states` for the state of a source without finite states)."""
    C = context_length(layout)
    tokens, beliefs = sampled_states(process, key, num_sequences, C)
    sequence, position, count = distinct_prefixes(tokens, process.vocab_size)
    used, sequence_index = np.unique(sequence, return_inverse=True)
    root_and_rows = np.concatenate([root_state(process)[None], beliefs[sequence, position]])
    first, class_ids = hmm.unique_beliefs(root_and_rows, SAMPLED_CLASS_TOL)
    n_classes = len(first)
    fields = dict(
        sequence_index=sequence_index,
        lengths=position + 1,
        codes=prefix_codes(tokens, process.vocab_size)[sequence, position],
        beliefs=beliefs[sequence, position],
        probs=count / num_sequences,
        counts=count,
        class_ids=class_ids[1:] if n_classes <= MAX_CATEGORIES else None,
    )
    return _assemble(process, "sampled", layout, tokens[used], fields, root_class=class_ids[0])


def prefix_set(
    process: hmm.Process,
    layout,
    *,
    tree=None,
    max_sequences: int = MAX_TREE_SEQUENCES,
    num_samples: int = NUM_SAMPLES,
    key=None,
) -> PrefixSet:
    """Exact tree prefixes when at most `max_sequences` full-length sequences can exist, else sampled ones.

    A given `tree` is used when it is unpruned and deep enough. `key` seeds the sampled fallback.
    """
    C = context_length(layout)
    if not isinstance(process, hmm.Process):  # no finite states: always sampled
        return sampled_prefixes(process, jax.random.key(0) if key is None else key, num_samples, layout)
    if tree is not None and tree.max_len >= C and tree.min_prob == 0:
        return tree_prefixes(tree, layout)
    if float(process.vocab_size) ** C <= max_sequences:
        return tree_prefixes(hmm.mixed_state_presentation(process, C), layout)
    return sampled_prefixes(process, jax.random.key(0) if key is None else key, num_samples, layout)
