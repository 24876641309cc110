"""The ladder's no-network baselines on sampled (sequence, position) rows: token history (last k tokens and the
position, linear and lookup), the prediction-only ceiling, and the belief read from the model's own
next-symbol distribution. Rows are prefixes of one sequence each, weighted uniformly; folds hold out whole
sequences."""

from types import SimpleNamespace

import numpy as np

from analysis.ladder.baselines import linear_history, lookup_history
from analysis.ladder.heldout_summary import seed_summary
from analysis.ladder.nested_cv import nested_cv
from analysis.ladder.prediction_ceiling import prediction_ceiling
from analysis.llm_beliefs.in_context import context_codes
from analysis.llm_beliefs.sequences import ProcessSequences
from analysis.regression.fit import RCOND


def history_rows(seqs: ProcessSequences, max_k: int) -> SimpleNamespace:
    """What the ladder's token-history baselines read from a prefix set: `codes` (here only the last `max_k`
    tokens, which is all they use), `lengths` (tokens seen) and `process`."""
    V = seqs.process.vocab_size
    return SimpleNamespace(
        codes=seqs.rows(context_codes(seqs.tokens_NxT, V, max_k)),
        lengths=seqs.position_of_row() + 1,
        process=seqs.process,
        beliefs=seqs.rows(seqs.beliefs_NxTxS),
    )


def _held_out(entry: dict) -> dict:
    return {key: value for key, value in entry.items() if key != "cv"} | {"cv_r2": entry["cv"]["r2"]["mean"]}


def token_history(seqs: ProcessSequences, fold_N: np.ndarray, max_k: int) -> dict:
    """`{linear: [...], lookup: [...]}`, one entry per k = 1..max_k with in-sample and held-out R^2."""
    rows = history_rows(seqs, max_k)
    y, w = rows.beliefs, np.ones(len(rows.lengths))
    return {
        "linear": [_held_out(e) for e in linear_history(rows, y, w, [fold_N], max_k)],
        "lookup": [
            _held_out(e) | {"coverage": e["cv"]["coverage"]} for e in lookup_history(rows, y, w, [fold_N], max_k)
        ],
    }


def ceiling(seqs: ProcessSequences, fold_N: np.ndarray) -> dict:
    """The prediction-only ceiling (`analysis.ladder.prediction_ceiling`) over the sampled rows."""
    rows = history_rows(seqs, 1)
    return prediction_ceiling(rows, np.ones(len(rows.lengths)), [fold_N])[0]


def model_prediction_baseline(seqs: ProcessSequences, q_NxTxV: np.ndarray, fold_N: np.ndarray) -> dict:
    """Held-out R^2 of the belief from an affine map of the model's renormalised next-symbol distribution."""
    y = seqs.rows(seqs.beliefs_NxTxS)
    w = np.ones(len(y))
    held = nested_cv({"q": seqs.rows(q_NxTxV)}, {"q": ["q"]}, y, w, fold_N, [RCOND])["q"]
    return {"cv_r2": seed_summary(y, [held.yhat_NxC], w)["r2"]["mean"]}
