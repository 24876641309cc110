"""The sequences an in-context analysis averages over: every sequence of the context with its probability when
the tree is small enough, else a fixed sampled set; and the next-token distributions of the training process."""

from dataclasses import dataclass

import numpy as np

import hmm
from models.data import sample_tokens

MAX_EXACT = 2**17  # sequences of the full context at most, for the exact average


@dataclass(frozen=True)
class SequenceSet:
    """Process tokens `[N, C]`, weights `[N]` (sum 1), and whether they are every sequence (`exact`)."""

    tokens: np.ndarray
    weights: np.ndarray
    exact: bool


def sequence_set(source, length: int, key, max_exact: int = MAX_EXACT, num_sampled: int = 8192) -> SequenceSet:
    """Every non-zero sequence of `length` tokens with its probability for a finite process with at most
    `max_exact` candidates; otherwise `num_sampled` sequences drawn from `key` with equal weights."""
    if isinstance(source, hmm.Process) and source.vocab_size**length <= max_exact:
        tokens, probs, _ = hmm.mixed_state_presentation(source, length).sequences(length)
        probs = np.asarray(probs, np.float64)
        return SequenceSet(np.asarray(tokens, np.int32), probs / probs.sum(), True)
    tokens = np.asarray(sample_tokens(source, key, num_sampled, length), np.int32)
    return SequenceSet(tokens, np.full(num_sampled, 1.0 / num_sampled), False)


def process_predictive(source, tokens_NxC) -> np.ndarray:
    """The training process's Bayes next-token distributions `[N, C, V]` (row t: `P(x_{t+1} | x_0..x_t)`):
    filtered beliefs for a finite process, `source.predictive` for a source without finite states."""
    if isinstance(source, hmm.Process):
        beliefs = np.asarray(hmm.beliefs(source, tokens_NxC), np.float64)
        p = np.clip(hmm.predictive_distribution(source, beliefs), 0.0, None)
    else:
        p = np.asarray(source.predictive(tokens_NxC), np.float64)
    return p / p.sum(-1, keepdims=True)
