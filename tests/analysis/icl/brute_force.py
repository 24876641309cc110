"""Independent numpy references for the in-context tests: path sums over components, counts by loops."""

import itertools

import numpy as np


def sequence_prob(matrices_VxSxS, eta0_S, tokens) -> float:
    """P(x_0..x_t) of an HMM as a product of its matrices, `eta0 T[x_0] ... T[x_t] 1`."""
    v = np.asarray(eta0_S, np.float64)
    for x in tokens:
        v = v @ matrices_VxSxS[x]
    return float(v.sum())


def chain_prob(P_VxV, tokens) -> float:
    """P(x_0..x_t) of a Markov chain with a uniform first token."""
    p = 1.0 / len(P_VxV)
    for a, b in itertools.pairwise(tokens):
        p *= P_VxV[a, b]
    return p


def all_sequences(V: int, length: int) -> np.ndarray:
    return np.asarray(list(itertools.product(range(V), repeat=length)), np.int64)


def add_alpha_counts(tokens, t: int, V: int, alpha: float, bigram: bool) -> np.ndarray:
    """Add-alpha estimate of the distribution of x_{t+1} from x_0..x_t by explicit counting."""
    counts = np.zeros(V)
    if bigram:
        for s in range(t):
            if tokens[s] == tokens[t]:
                counts[tokens[s + 1]] += 1
    else:
        for s in range(t + 1):
            counts[tokens[s]] += 1
    return (counts + alpha) / (counts.sum() + V * alpha)


def prefix_tokens(prefixes):
    """Process tokens of each row's sequence `[N, C]` (BOS dropped); row i's prefix is its first `lengths[i]`."""
    return np.asarray(prefixes.inputs_MxL[:, int(prefixes.bos) :], np.int32)[prefixes.sequence_index]
