"""A fixed sampled set of process sequences with their exact beliefs and Bayes next-token distributions."""

from dataclasses import dataclass

import numpy as np

import hmm
from models.keys import jax_key


@dataclass(frozen=True)
class ProcessSequences:
    """N sequences of length T: tokens, the posterior belief after each token, and the Bayes prediction of the
    next token from it (position t has seen `x_0..x_t` and predicts `x_{t+1}`)."""

    process: hmm.Process
    tokens_NxT: np.ndarray  # int32
    beliefs_NxTxS: np.ndarray  # float64
    bayes_NxTxV: np.ndarray  # float64

    @property
    def shape(self) -> tuple[int, int]:
        return self.tokens_NxT.shape

    def rows(self, array_NxTx) -> np.ndarray:
        """`[N * T, ...]`: (sequence, position) rows, sequence-major."""
        return np.asarray(array_NxTx).reshape(self.shape[0] * self.shape[1], *np.shape(array_NxTx)[2:])

    def sequence_of_row(self) -> np.ndarray:
        return np.repeat(np.arange(self.shape[0]), self.shape[1])

    def position_of_row(self) -> np.ndarray:
        return np.tile(np.arange(self.shape[1]), self.shape[0])

    def component_posterior(self) -> np.ndarray | None:
        """`[N, T, M]`: P(component | x_0..x_t) for a mixture (`hmm.mixture`), else None."""
        if not self.process.is_mixture:
            return None
        return hmm.component_posterior(self.process, self.beliefs_NxTxS)


def sample_sequences(process: hmm.Process, num_sequences: int, length: int, seed: int = 0) -> ProcessSequences:
    """Sample from the stationary process (`hmm.sample`, which carries the exact posterior along); beliefs are
    renormalised in float64 so `eta . w = 1` holds to rounding."""
    tokens, beliefs = hmm.sample(process, jax_key(seed, "llm_sequences"), batch_size=num_sequences, seq_len=length)
    beliefs = np.asarray(beliefs, np.float64)
    beliefs = beliefs / (beliefs @ np.asarray(process.right_vector, np.float64))[..., None]
    return ProcessSequences(
        process, np.asarray(tokens, np.int32), beliefs, hmm.predictive_distribution(process, beliefs)
    )
