"""Task diversity: how far a model trained on a pool of M Markov chains predicts from the finite-pool Bayes
predictor and from the Dirichlet-prior Bayes predictor, on held-out sequences from the pool and from the prior;
and the M at which it switches from the first to the second (the task-diversity threshold)."""

import numpy as np

import hmm
from analysis.icl.curves import model_curves
from models.data import context_length

SETS = ("pool", "prior")  # where the held-out sequences come from
BAYES = ("pool", "dirichlet")  # which Bayes predictor the distance is to


def pool_spec(process) -> dict:
    """The pool behind a `markov_pool` process: its matrices `[M, V, V]`, `alpha` and `vocab_size`."""
    if not isinstance(process, hmm.Process) or process.name != "markov_pool":
        name = getattr(process, "name", type(process).__name__)
        raise hmm.ProcessError(f"icl-diversity needs runs trained on a markov_pool process, got {name!r}")
    p = process.param_dict
    return {
        "matrices": hmm.markov_pool_matrices(process),
        "alpha": float(p["alpha"]),
        "vocab_size": int(p["vocab_size"]),
    }


def held_out_tokens(spec: dict, which: str, key, num_sequences: int, length: int) -> np.ndarray:
    """`[N, L]` held-out tokens from the pool's chains (`which="pool"`) or from fresh Dirichlet draws ("prior")."""
    if which == "pool":
        return np.asarray(hmm.sample_pool(key, spec["matrices"], num_sequences, length)[0])
    return np.asarray(hmm.DirichletMarkov(spec["vocab_size"], spec["alpha"]).sample(key, num_sequences, length))


def bayes_rows(spec: dict, tokens_NxC) -> dict:
    """Next-token rows `[N, C, V]` of both Bayes predictors (finite pool; Dirichlet prior)."""
    return {
        "pool": np.asarray(hmm.pool_predictive(spec["matrices"], tokens_NxC), np.float64),
        "dirichlet": np.asarray(hmm.bigram_predictive(tokens_NxC, spec["vocab_size"], spec["alpha"]), np.float64),
    }


def model_distances(model, process, keys: dict, num_sequences: int) -> dict:
    """`{set: {bayes: {"by_position": [C], "mean": float}}}`: the model's KL(Bayes || model) in nats per
    position on held-out sequences from the pool and the prior (`keys[set]` draws them), and the distance
    between the two Bayes predictors themselves (`{set: {"bayes_gap": ...}}`, KL(pool || dirichlet))."""
    spec = pool_spec(process)
    length = context_length(model.config)
    out = {}
    for which in SETS:
        tokens = held_out_tokens(spec, which, keys[which], num_sequences, length)
        weights = np.full(num_sequences, 1.0 / num_sequences)
        rows = bayes_rows(spec, tokens)
        section = {}
        for bayes in BAYES:
            kl = model_curves(model, tokens, weights, rows[bayes])[1]
            section[bayes] = {"by_position": kl.tolist(), "mean": float(kl.mean())}
        p, q = rows["pool"], rows["dirichlet"]
        gap = weights @ (p * (np.log(np.where(p > 0, p, 1.0)) - np.log(q))).sum(-1)
        section["bayes_gap"] = {"by_position": gap.tolist(), "mean": float(gap.mean())}
        out[which] = section
    return out


def diversity_threshold(pool_sizes, to_pool, to_dirichlet) -> dict:
    """Where a model switches from the finite-pool Bayes to the Dirichlet Bayes as the pool grows.

    Inputs: pool sizes M (any order) and the model's distance to each predictor at each M. Returns
    `status`: "switches" (closer to the pool below some M and to Dirichlet from it on), "always_dirichlet"
    (closer to Dirichlet at every M), "never" (closer to the pool at the largest M); `threshold`: the smallest
    M from which the model is closer to Dirichlet at every larger M (None if never); `crossing`: the
    log-interpolated M where `log(to_dirichlet / to_pool)` crosses 0 just below the threshold (None unless
    switching).
    """
    M = np.asarray(pool_sizes, np.float64)
    order = np.argsort(M)
    M = M[order]
    ratio = np.log(np.asarray(to_dirichlet, np.float64)[order]) - np.log(np.asarray(to_pool, np.float64)[order])
    closer_dirichlet = ratio < 0
    if not closer_dirichlet[-1]:
        return {"status": "never", "threshold": None, "crossing": None}
    first = len(M) - int(np.argmin(closer_dirichlet[::-1])) if not closer_dirichlet.all() else 0
    if first == 0:
        return {"status": "always_dirichlet", "threshold": float(M[0]), "crossing": None}
    lo, hi = first - 1, first
    frac = ratio[lo] / (ratio[lo] - ratio[hi])
    crossing = float(np.exp2(np.log2(M[lo]) + frac * (np.log2(M[hi]) - np.log2(M[lo]))))
    return {"status": "switches", "threshold": float(M[hi]), "crossing": crossing}
