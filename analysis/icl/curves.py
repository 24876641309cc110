"""Per-position in-context loss of a model beside the Bayes predictors and the in-context n-gram estimators.

Every curve is an expected cross-entropy against the training process's Bayes next-token distribution
(`E sum_x P(x | x_0..x_t) (-log q_t(x))`), averaged over a `SequenceSet`: exact over every sequence when the
tree is small, otherwise over a fixed sampled set without the noise of the sampled next token. Entry t is the
loss after t + 1 tokens seen (predicting x_{t+1}).
"""

import numpy as np

import hmm
from analysis.icl.sequences import SequenceSet, process_predictive
from models.data import inputs_from_context
from models.evaluation import EvalSet, evaluate

CURVE_LABELS = {
    "model": "model",
    "bayes": "Bayes (training process)",
    "pool": "Bayes, finite pool (posterior over components; dMMSE analogue)",
    "dirichlet": "Bayes, Dirichlet prior (in-context bigram + α; ridge analogue)",
    "unigram": "in-context unigram (add-smoothing)",
    "bigram": "in-context bigram (add-smoothing)",
}


def expected_loss_curve(weights_N, target_NxCxV, predictor_NxCxV) -> np.ndarray:
    """`sum_n w_n sum_x target[n, t, x] (-log predictor[n, t, x])` per position `[C]` (0 log 0 = 0)."""
    target = np.asarray(target_NxCxV, np.float64)
    q = np.asarray(predictor_NxCxV, np.float64)
    log_q = np.log(np.where(target > 0, q, 1.0))
    return np.asarray(weights_N, np.float64) @ -(target * log_q).sum(-1)


def dirichlet_alpha(source) -> float | None:
    """The Dirichlet concentration behind a Markov family (`DirichletMarkov`, `markov_pool`), else None."""
    if isinstance(source, hmm.DirichletMarkov):
        return float(source.alpha)
    if isinstance(source, hmm.Process) and source.name == "markov_pool":
        return float(source.param_dict["alpha"])
    return None


def predictors(source, tokens_NxC, smoothing: float = 1.0) -> dict:
    """Next-token rows `[N, C, V]` of every in-context predictor that applies to `source`:
    `pool` (a finite mixture's exact Bayes) or `bayes` (another finite process's), `dirichlet` (Markov families),
    and the add-`smoothing` in-context `unigram` and `bigram` estimators."""
    V = source.vocab_size
    out = {}
    if isinstance(source, hmm.Process):
        out["pool" if source.is_mixture else "bayes"] = process_predictive(source, tokens_NxC)
    alpha = dirichlet_alpha(source)
    if alpha is not None:
        out["dirichlet"] = hmm.bigram_predictive(tokens_NxC, V, alpha)
    out["unigram"] = hmm.unigram_predictive(tokens_NxC, V, smoothing)
    out["bigram"] = hmm.bigram_predictive(tokens_NxC, V, smoothing)
    return {k: np.asarray(v, np.float64) for k, v in out.items()}


def model_eval_set(cfg, tokens_NxC, weights_N, target_NxCxV) -> EvalSet:
    """An `EvalSet` scoring a model's rows against `target` rows (row t: the distribution of x_{t+1}); with BOS
    the BOS position (predicting x_0) gets a uniform row, dropped by `model_curves`."""
    target = np.asarray(target_NxCxV, np.float64)
    if cfg.bos:
        N, _, V = target.shape
        target = np.concatenate([np.full((N, 1, V), 1.0 / V), target], axis=1)
    inputs = np.asarray(inputs_from_context(np.asarray(tokens_NxC, np.int32), cfg))
    optimal = expected_loss_curve(weights_N, target, target)
    return EvalSet(
        inputs, np.asarray(weights_N, np.float64), target.astype(np.float32), optimal, float(optimal.mean()), False
    )


def model_curves(model, tokens_NxC, weights_N, target_NxCxV) -> tuple[np.ndarray, np.ndarray]:
    """The model's expected cross-entropy and KL(target || model) per position `[C]` (tokens seen 1..C)."""
    cfg = model.config
    result = evaluate(model, None, eval_set=model_eval_set(cfg, tokens_NxC, weights_N, target_NxCxV))
    skip = int(cfg.bos)
    return np.asarray(result.loss_by_position[skip:]), np.asarray(result.kl_by_position[skip:])


def icl_section(model, source, sequences: SequenceSet, smoothing: float = 1.0) -> dict:
    """`report["icl"]`: per-position loss curves of the model and every predictor, their values at the last
    position and on average, and the model's KL to the training process's Bayes predictor."""
    target = process_predictive(source, sequences.tokens)
    rows = predictors(source, sequences.tokens, smoothing)
    curves = {name: expected_loss_curve(sequences.weights, target, q) for name, q in rows.items()}
    model_ce, model_kl = model_curves(model, sequences.tokens, sequences.weights, target)
    curves = {"model": model_ce, **curves}
    training_bayes = next(k for k in ("pool", "bayes", "dirichlet") if k in curves)
    last = {k: float(v[-1]) for k, v in curves.items()}
    return {
        "positions": list(range(1, sequences.tokens.shape[1] + 1)),
        "exact": sequences.exact,
        "num_sequences": len(sequences.weights),
        "smoothing": smoothing,
        "training_bayes": training_bayes,
        "curves": {k: v.tolist() for k, v in curves.items()},
        "kl_to_bayes": model_kl.tolist(),
        "last": last,
        "mean": {k: float(v.mean()) for k, v in curves.items()},
        "relative_last": last["model"] / last[training_bayes],
        "labels": {k: CURVE_LABELS[k] for k in curves},
    }
