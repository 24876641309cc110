"""A plain numpy forward filter, written independently of hmm.sampling, for cross-checks."""

import numpy as np


def numpy_filter(T, w, pi, tokens):
    """Posterior beliefs [B, L, S] and log P(sequence) [B], one token at a time."""
    B, L = tokens.shape
    out = np.zeros((B, L, len(pi)))
    logp = np.zeros(B)
    for b in range(B):
        eta = np.array(pi, dtype=np.float64)
        for t in range(L):
            unnorm = eta @ T[tokens[b, t]]
            prob = unnorm @ w / (eta @ w)
            logp[b] += np.log(prob)
            eta = unnorm / (unnorm @ w)
            out[b, t] = eta
    return out, logp
