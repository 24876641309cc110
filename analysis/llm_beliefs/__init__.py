"""Beliefs in a real LLM: a process rendered as text for a pretrained model, its in-context prediction against
Bayes and n-gram estimators, belief regression per residual site (sequence-grouped CV, shuffle nulls, token-history
baselines, the prediction-only ceiling, a weight-permuted control), and lenses scored against Bayes.

Pieces: `symbol_map` (symbols.py), `sample_sequences` (sequences.py), `read_model` (forward.py),
`ngram_predictions` / `kl_curve` (in_context.py), `site_regression` / `sequence_folds` (regression.py),
`token_history` / `ceiling` (baselines.py), `permuted_weights` (permuted.py), `lenses_against_bayes` (lens.py),
`patch_sites` (patching.py: activation patching between sequences of different belief), `steer_sites` /
`fold_decoders` (steering.py: belief steering with the toy models' steps, decoders cross-fitted over folds).
The pipeline that wires them is `experiments.llm.probe`.
"""

from analysis.llm_beliefs.baselines import ceiling, model_prediction_baseline, token_history
from analysis.llm_beliefs.forward import ModelReadout, read_model
from analysis.llm_beliefs.in_context import estimator_curves, kl_curve, kl_rows, ngram_predictions
from analysis.llm_beliefs.lens import lenses_against_bayes, symbol_readout
from analysis.llm_beliefs.patching import closed_fraction, patch_sites, patching_pairs
from analysis.llm_beliefs.permuted import permuted_weights
from analysis.llm_beliefs.regression import bucket_regressions, position_buckets, sequence_folds, site_regression
from analysis.llm_beliefs.sequences import ProcessSequences, sample_sequences
from analysis.llm_beliefs.steering import fold_decoders, steer_sites
from analysis.llm_beliefs.symbols import DEFAULT_SYMBOLS, SymbolError, SymbolMap, symbol_map

__all__ = [
    "DEFAULT_SYMBOLS",
    "ModelReadout",
    "ProcessSequences",
    "SymbolError",
    "SymbolMap",
    "bucket_regressions",
    "ceiling",
    "closed_fraction",
    "estimator_curves",
    "fold_decoders",
    "kl_curve",
    "kl_rows",
    "lenses_against_bayes",
    "model_prediction_baseline",
    "ngram_predictions",
    "patch_sites",
    "patching_pairs",
    "permuted_weights",
    "position_buckets",
    "read_model",
    "sample_sequences",
    "sequence_folds",
    "site_regression",
    "steer_sites",
    "symbol_map",
    "symbol_readout",
    "token_history",
]
