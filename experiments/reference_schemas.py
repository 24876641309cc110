"""The keys of `analysis.json` and of `lens-llm`'s `lenses.json` with their meanings, for docs/reference.

Hand-written from the code that writes them (`analysis.regression.analyze.AnalysisResult.to_dict`,
`experiments.runner`, `experiments.stages`, `analysis.ladder.ladder`, `analysis.regression.emergence`,
`analysis.lenses`, `experiments.llm.lens`); a test checks that every key a run writes is listed.
"""

from experiments.llm.lens import LENS_LLM_SCHEMA

_R2_FIELDS = [
    ("r2", "probability-weighted R², pooled over the target's coordinates"),
    ("rmse", "weighted root of the squared error summed over coordinates"),
    ("mse_unweighted", "mean squared error over distinct prefixes and coordinates"),
    (
        "mse_paper",
        "mean squared error over every (sequence, position) and coordinate: the number the "
        "belief-geometry paper printed",
    ),
    ("mean_distance", "weighted mean Euclidean distance between predicted and true target"),
    ("r2_per_coordinate", "R² of each coordinate"),
    ("shuffle", "in-sample permutation null: {num_permutations, mean, std, q99, max, p_value}"),
    (
        "cv",
        "random k-fold cross-validation over prefixes (one seeded fold assignment, fixed `rcond`): {r2 (pooled "
        "held-out), r2_folds, r2_fold_mean, r2_fold_std (population sd over folds), folds (`random`), shuffle (held-out R² of "
        "permuted targets: {num_permutations, mean, std, q99, max, p_value})}",
    ),
]

ANALYSIS_JSON = [
    ("schema", "`belieflab.analysis/1`"),
    ("process", "{name, params, vocab_size, num_states, is_generalized}"),
    ("model", "{config (the ModelConfig as a mapping), tokens_seen}"),
    (
        "data",
        "{source (`tree`: every prefix of the exact mixed-state tree; `sampled`: de-duplicated samples), "
        "context_length, bos, num_prefixes, num_sequences, weighting, effective_sample_size (Σw)²/Σw²}",
    ),
    ("settings", "{weighting, num_shuffles, num_cv_shuffles, cv_folds, seed, rcond} of the regression"),
    ("groups", "{group: [sites]}: every site alone, and the concatenations"),
    ("targets", "[`belief`, `next_token`]: the posterior after the prefix, and the Bayes next-token distribution"),
    (
        "headline",
        "{target: {site, target, r2, rmse, mse_unweighted, mse_paper, cv_r2, null_mean, null_q99, p_value, "
        "cv_null_mean, cv_null_q99, untrained_r2}}: the single site with the highest in-sample R²",
    ),
    ("trained", "{group: {sites, dim, rank, targets: {target: fit}}}: the trained model; a fit's keys are below"),
    ("untrained", "the same for the architecture at initialisation (the control), or null"),
    *[(f"trained.<group>.targets.<target>.{key}", meaning) for key, meaning in _R2_FIELDS],
    ("figures", "{name: path relative to the run directory}"),
    ("seconds", "{stage: seconds} of the regression"),
    (
        "environment",
        "{python, jax, jaxlib, numpy, backend, devices, cpu, cpu_count, platform, load_average_1min}: what "
        "produced the numbers (the load average when the analysis was written)",
    ),
    (
        "ladder",
        "the referee's ladder (`config.ladder`), when the stage ran; runs made before the section was "
        "renamed have it as `baselines`",
    ),
    (
        "ladder.groups",
        "{group: [sites]}: the network groups of the ladder (headline site, best held-out site, "
        "the concatenation when prefixes × columns² ≤ `concat_max_cost`)",
    ),
    (
        "ladder.settings",
        "{max_k, fold_seeds, cv_folds, rcond_grid, weightings, leave_belief_state_out, in_sample_rcond}",
    ),
    (
        "ladder.classes",
        "{num_belief_classes, num_singleton_prefixes, num_shared_prefixes}: distinct beliefs, and "
        "prefixes whose belief no other prefix shares",
    ),
    (
        "ladder.controls",
        "{group: {weighting, untrained_r2, untrained_cv_r2, folds (`random`), heldout_null, random_folds_cv_r2}}: "
        "the main regression's controls for the ladder's groups",
    ),
    (
        "ladder.weightings",
        "{w: {effective_sample_size, singleton_weight_share, network, prediction_ceiling, token_history, ratios}}",
    ),
    (
        "ladder.weightings.<w>.network",
        "{group: {r2, cv {folds (`stratified_by_belief`), r2 {mean, sd, values, folds} over fold "
        "seeds (stratified by belief state, `rcond` by nested CV), r2_by_length, "
        "singleton_beliefs, shared_beliefs}, rcond_chosen, leave_belief_state_out "
        "{folds (`leave_belief_state_out`), r2}, "
        "beyond_prediction {r2, cv} or null}}",
    ),
    (
        "ladder.weightings.<w>.prediction_ceiling",
        "{num_next_token_groups, affine_r2, affine_cv, best_function_r2, beyond_prediction_variance_share}",
    ),
    (
        "ladder.weightings.<w>.token_history",
        "{linear [{k, columns, r2, cv}], lookup [{k, cells, mean_cell_size, "
        "r2, cv (with coverage)}], best_linear, best_lookup {k, cv_r2, r2}}",
    ),
    (
        "ladder.weightings.<w>.ratios",
        "{group: {linear, lookup: [{k, ratio, baseline_perfect}]}}: the network's "
        "held-out 1 − R² divided by each baseline's",
    ),
    (
        "ladder.pair_separation",
        "{site: {num_testable, num_tested, accuracies, share_separated, median}} for "
        "pairs of beliefs that share a next-token distribution, or null",
    ),
    ("ladder.seconds", "{part: seconds}"),
    (
        "training",
        "emergence over checkpoints (`analysis.emergence`): {emergence_group, groups, settings {weighting, "
        "num_shuffles, cv_folds, seed}, checkpoints [{step, tokens, groups: as `trained`}], figures, seconds}",
    ),
    (
        "lenses",
        "the lens stage (`config.lens`): {units: nats, prefixes {source, count, train, heldout}, trained, "
        "untrained, belief, future, logit_grid, seconds, compare_with (from `belieflab lens`)}",
    ),
    (
        "lenses.trained",
        "{units, sites [S], final_site, rows {train, heldout}, recipe, model {the model's own "
        "kl_bayes, cross_entropy, entropy, top1_bayes, ...}, logit / tuned / shared {kl_model [S], "
        "kl_bayes [S], cross_entropy [S] (expected under Bayes), entropy [S], top1_model [S], "
        "top1_bayes [S]}, tuned_train_loss {first [S], last [S]}, shared_train_loss {first, last}, "
        "transfer {kl_model_penalty [S][S], kl_bayes_penalty, cross_entropy_penalty, raw {metric: "
        "[S][S]}}, seconds}",
    ),
    ("lenses.untrained", "the same (without transfer) for the untrained architecture, its own output as reference"),
    (
        "lenses.belief",
        "{sites, r2 [S], mse [S], transfer {r2, mse, r2_penalty, mse_penalty: [S][S]}}: the belief "
        "lens (affine map to the belief, held-out rows)",
    ),
    (
        "lenses.future",
        "{sites, horizons [H], kl [S][H], top1 [S][H], accuracy [S][H], ceiling [H], unigram [H]}: "
        "the future lens (the token N steps after the next one)",
    ),
    (
        "lenses.logit_grid",
        "{tokens [L], sites, top [S][L], prob [S][L]}: top token and probability per site and "
        "position of one seeded sequence",
    ),
    (
        "interventions",
        "opt-in (`config.interventions`): {settings, patching, carry_forward, steering, prior_shift, figures, "
        "seconds, kept_from_earlier (parts `belieflab intervene` did not recompute and kept)}",
    ),
    (
        "interventions.patching",
        "{num_pairs, eligible_mass, sites, modes, gap_nats, unpatched_kl_to_base_bayes_nats, "
        "closed {mode: {site: fraction of the KL gap closed}}, kl_to_donor_nats}",
    ),
    (
        "interventions.carry_forward",
        "{num_pairs, eligible_mass, sites, modes, offsets, num_read, gap_nats, "
        "unpatched_kl_to_base_bayes_nats, closed {mode: {site: [per offset]}}} or "
        "{num_pairs: 0, note}",
    ),
    (
        "interventions.steering",
        "{num_pairs, sites, kinds [belief, random, next_token, encoder, random_encoder], "
        "readout_site, per_site {site: {decoder_r2, kl_before_nats, kl_<kind>_nats, kl_removed, "
        "step_norm, activation_norm, readback_distance}}}",
    ),
    (
        "interventions.prior_shift",
        "opt-in (`interventions.prior_shift`, `intervene --prior-shift`; mixtures): {sites, component, deltas, "
        "num_sequences, results [one per site and shift, site-major: {site, delta [per component], decoder_r2, "
        "num_sequences, step_norm {steered, encoder}, bayes_kl_shift_vs_base_nats [per position], per_position "
        "{none|steered|random|encoder|random_encoder: {kl_shifted_nats, kl_base_nats} [per position]}, mean_kl (the "
        "same averaged over positions), closer_to_shifted_everywhere {steered, encoder}, shifted_kl_spread_nats "
        "{steered, encoder}}]}",
    ),
    (
        "loss",
        "{optimal (least cross-entropy at the model's context), final, relative (final / optimal), kl (to the "
        "Bayes next-token distribution), step}: the last evaluation",
    ),
]

LENSES_JSON = [
    ("schema", f"`{LENS_LLM_SCHEMA}`"),
    ("units", "`nats (bits where named)`"),
    ("settings", "the LensLLMSettings that ran (see the command-line reference)"),
    (
        "model",
        "{name, checkpoint {path, file, format (gguf or safetensors), bytes, sha256, quantisation (GGUF "
        "general.file_type, e.g. MOSTLY_Q4_1), tensor_types {type: count}, metadata (GGUF general.*)}, config (the "
        "PretrainedConfig), heldout: the model's own metrics on the held-out rows (cross_entropy_observed, "
        "bits_per_byte, entropy, top1_observed, ...)}",
    ),
    (
        "text",
        "{path, mode (corpus, self or a file), train_tokens, heldout_tokens, heldout_rows, heldout_bytes, "
        "train_vocab ('full' or the readout's size)}",
    ),
    ("plan", "the token budget: window, windows per step, steps, tokens_per_step, ..."),
    ("recipe", "the tuned-lens optimiser recipe (SGD Nesterov, learning rate, weight decay, clip, steps)"),
    ("training", "{text, tokens (seen), train_text_tokens, readout_vocab, loss_first [S], loss_last [S]}"),
    ("heldout", "{tokens, rows, bytes, curve_rows}: the held-out text the metrics are measured on"),
    ("curve", "[{step, tokens, mean_kl, ...}]: held-out KL(model ‖ tuned lens) at points of the budget"),
    ("sites", "[S]: every block input `blocks.{l}.resid_pre`, then the last block's output `blocks.{L-1}.resid_post`"),
    ("layers", "[S]: 0..S−1"),
    (
        "logit",
        "{kl_model [S], entropy [S], top1_model [S], cross_entropy_observed [S], top1_observed [S]}: the "
        "logit lens on the held-out rows",
    ),
    ("tuned", "the same for the tuned lens (one affine translator per site, trained streamed), with bits per byte"),
    (
        "future",
        "the future lens: per horizon N and layer, precision@1 against the model's own prediction and "
        "against the real token, beside the skip-bigram baseline",
    ),
    (
        "transfer",
        "{sites, layers (every `transfer_every`-th site and the last), kl_model_penalty [T][T], "
        "cross_entropy_observed_penalty [T][T]}: translator i applied at site j minus site j's own",
    ),
    (
        "grid",
        "{tokens, sites, logit {top1, prob}, tuned {top1, prob}}: the logit-lens grid of the first held-out "
        "passage (decoded top-1 token and its probability per site and position)",
    ),
    ("seconds", "{prepare, train_and_curve, evaluate, future, load, transfer_and_grid}"),
]
