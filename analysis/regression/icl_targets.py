"""Regression targets of in-context processes: the component posterior of a mixture (a point of the
(M-1)-simplex), and for a pool of Markov chains the posterior-mean transition matrix, under the pool and under
the Dirichlet prior it was drawn from."""

import numpy as np

import hmm


def _pool(process: hmm.Process) -> np.ndarray:
    p = process.param_dict
    return hmm.pool_matrices(p["vocab_size"], p["alpha"], p["num_chains"], p["seed"])


def dirichlet_posterior_mean(prefixes, alpha: float) -> np.ndarray:
    """`[N, V*V]`: the posterior-mean transition matrix under Dirichlet(alpha) rows after each prefix (the
    prior mean, uniform, for the empty prefix)."""
    V = prefixes.process.vocab_size
    sequences, rows = np.unique(prefixes.sequence_index, return_inverse=True)
    tokens = np.asarray(prefixes.inputs_MxL[sequences, int(prefixes.bos) :], np.int32)
    means = np.asarray(hmm.bigram_posterior_mean(tokens, V, alpha), np.float64)
    lengths = np.asarray(prefixes.lengths)
    out = means[rows, np.maximum(lengths - 1, 0)].reshape(len(lengths), V * V)
    out[lengths == 0] = 1.0 / V
    return out


def source_targets(prefixes) -> dict:
    """A Dirichlet Markov source's targets: `transition`, the posterior-mean transition matrix (its prefix
    state, `[N, V*V]`), and `next_token`, that matrix's row of the last token (uniform for the empty prefix)."""
    V = prefixes.process.vocab_size
    matrices_NxVxV = np.asarray(prefixes.beliefs, np.float64).reshape(-1, V, V)
    last = np.asarray(prefixes.codes) % V
    rows = matrices_NxVxV[np.arange(len(last)), last]
    rows[np.asarray(prefixes.lengths) == 0] = 1.0 / V
    return {"transition": prefixes.beliefs, "next_token": rows}


def icl_targets(prefixes) -> dict:
    """`component` for a mixture; `transition` (pool posterior mean) and `transition_dirichlet` for a pool of
    Markov chains (`markov_pool`). Empty for other processes."""
    process = prefixes.process
    if not getattr(process, "is_mixture", False):
        return {}
    component_NxM = hmm.component_posterior(process, np.asarray(prefixes.beliefs, np.float64))
    out = {"component": component_NxM}
    if process.name == "markov_pool":
        pool_MxVxV = _pool(process)
        out["transition"] = component_NxM @ pool_MxVxV.reshape(len(pool_MxVxV), -1)
        out["transition_dirichlet"] = dirichlet_posterior_mean(prefixes, process.param_dict["alpha"])
    return out
