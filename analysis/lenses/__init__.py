"""Lenses on a model's residual stream: logit, tuned and shared lenses and transfer matrices (model-agnostic
core), plus belief and future lenses for the toy models (exact Bayes ground truth).

Core API (any model: a toy `models.Transformer` or a real LLM with the same interface)
--------------------------------------------------------------------------------------
Inputs, all rows of one model (a row = one token position of one sequence):

    inputs = LensInputs(
        resid={site: h_NxD, ...},   # cached residuals in DEPTH ORDER; the LAST site is the model's final
                                    # residual: readout(last) IS the model's output (the reference)
        weights_N=w_N,              # row weights (non-negative, any scale; e.g. ones for real text)
        bayes_NxV=None,             # optional exact next-token distributions (toys)
        next_ids_N=None)            # optional observed next-token ids (real text)
    readout = Readout.from_model(model)        # model.logits_from_residual, frozen (NNX modules are split)
    readout = Readout.from_function(f)         # or any jit-able f(h_NxD) -> logits_NxV
    recipe = Recipe()                          # SGD Nesterov 0.9, lr 0.1, wd 1e-3 (coupled), clip 1,
                                               # linear decay to 0, 250 steps of 512 rows; optimizer="adam"
                                               # option; sites_per_program / eval_batch_size bound memory
                                               # (sites x batch x V floats); seed

One call does everything on a seeded train/held-out split of rows:

    suite = lens_suite(readout, inputs, recipe, sites=None, heldout_fraction=0.2,
                       tuned=True, shared=True, transfer=True, progress=False)
    suite.to_dict()   # JSON (nats): sites, final_site, rows {train, heldout}, recipe, model {...},
                      # logit/tuned/shared {metric: [S]}, tuned_train_loss, shared_train_loss,
                      # transfer {kl_model_penalty: [S][S], cross_entropy_penalty, ..., raw {...}}, seconds
    suite.tuned.params   # {"A": [S, D, D], "b": [S, D]}: lens(h) = readout(h + h @ A + b)
    suite.shared.params  # {"A": [D, D], "b": [D]}

Every number is on the held-out rows, weighted by `weights_N`. Metrics per site (`site_metrics`):
`kl_model` KL(model || lens), `entropy`, `top1_model` (argmax agrees with the model's); with `bayes_NxV`:
`kl_bayes` KL(Bayes || lens), `cross_entropy` (expected under Bayes), `top1_bayes`; with `next_ids_N`:
`cross_entropy_observed`, `top1_observed`. `suite.model` holds the same metrics for the model's own output.
Transfer: `raw[i][j]` = metric of tuned translator i applied at site j; `*_penalty[i][j] = raw[i][j] -
raw[j][j]` (diagonal exactly 0).

Pieces, for finer control: `split_rows(N, heldout_fraction, seed)`, `logit_lens(readout, inputs, rows)`,
`logit_lens_logits(readout, h_NxD)`, `fit_tuned_lens(readout, inputs, train_rows, sites, recipe)` ->
`TunedLens` (`.metrics(readout, inputs, rows)`), `fit_shared_lens(...)` -> `SharedLens`,
`tuned_transfer(readout, inputs, rows, sites, params)`, `site_metrics(readout, inputs, rows, sites, params,
which_S)`, `train_translators(readout, {site: h}, final_NxD, w_N, recipe, shared)`; per-row divergences
in `analysis.lenses.metrics`. Memory: training holds `sites_per_program x batch_size x V` logits; evaluation
one site's `eval_batch_size x V` at a time (`lax.map`); no `[N, V]` array is ever built for all rows.
Bad inputs raise `LensInputError` (a `models.config.ConfigError`: one line, naming the value).

Streamed lenses on a real LLM (no cache of every site x every token)
---------------------------------------------------------------------
    plan = StreamPlan(tokens=6144, window=128, windows_per_step=4)   # or StreamPlan.published(): 250 x 2^18
    lens = train_streamed_lens(model, source, sites, plan, Recipe(), vocab_ids=None, future_horizon=3,
                               evaluate=kl_curve_point(model, heldout_inputs, rows, sites))
    # source(step) -> tokens [windows_per_step, window]: CorpusWindows(ids, window, count, seed) or
    # SampledWindows(model, CorpusWindows(...)) (the model's own continuations, temperature 1)
    run = streamed_llm_lenses(model, tokenizer, train_text, heldout_text, plan, text="corpus" | "self")
    run.result: curve (held-out KL at several token counts), tuned / logit (KL, bits per token and per byte,
    subset_kl_error for a token-subset readout), future (precision@1 vs the model and the real token, beside a
    skip-bigram baseline), training, heldout, seconds.
Modules: stream_plan, streamed, window_source, text_rows, text_eval, top_vocabulary, future_stats, future_text,
streamed_suite.
"""

from analysis.lenses.evaluate import site_metrics
from analysis.lenses.inputs import LensInputError, LensInputs, split_rows
from analysis.lenses.logit import logit_lens, logit_lens_logits
from analysis.lenses.readout import Readout
from analysis.lenses.recipe import Recipe
from analysis.lenses.shared import SharedLens, fit_shared_lens
from analysis.lenses.suite import LensSuite, lens_suite
from analysis.lenses.training import train_translators
from analysis.lenses.transfer import penalty_matrix, tuned_transfer
from analysis.lenses.tuned import TunedLens, fit_tuned_lens

__all__ = [
    "LensInputError",
    "LensInputs",
    "LensSuite",
    "Readout",
    "Recipe",
    "SharedLens",
    "TunedLens",
    "fit_shared_lens",
    "fit_tuned_lens",
    "lens_suite",
    "logit_lens",
    "logit_lens_logits",
    "penalty_matrix",
    "site_metrics",
    "split_rows",
    "train_translators",
    "tuned_transfer",
]
