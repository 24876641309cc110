"""The referee's ladder: token-history baselines, the prediction-only ceiling, and the network's held-out R^2
(folds stratified by belief state, mean ± sd over fold seeds, `rcond` from nested CV, leave-belief-state-out),
under each weighting side by side. Plain dicts for `analysis.json` under `ladder`."""

import time

import numpy as np

from analysis.ladder.baselines import in_sample, linear_history, lookup_history
from analysis.ladder.heldout_summary import seed_summary, unexplained_ratio
from analysis.ladder.nested_cv import RCOND_GRID, nested_cv
from analysis.ladder.prediction_ceiling import pair_separation, prediction_ceiling, shared_prediction_pairs
from analysis.regression.activations import DEFAULT_BATCH, collect_activations
from analysis.regression.analyze import CONCAT
from analysis.regression.folds import (
    LEAVE_BELIEF_STATE_OUT,
    RANDOM,
    belief_classes,
    class_sizes,
    group_folds,
    stratified_folds,
)
from analysis.regression.icl_targets import icl_targets
from analysis.regression.metrics import weighted_r2
from hmm.blas import one_blas_thread
from models.keys import numpy_rng


def ladder_groups(result, concat_max_cost: float) -> dict:
    """The network fits the ladder measures: the headline site, the site with the best held-out R^2, and the
    concatenation of all sites while prefixes x columns² <= `concat_max_cost`."""
    singles = [g for g, sites in result.groups.items() if len(sites) == 1]
    names = [result.headline()["site"]]
    cv = {g: (result.trained[g].targets["belief"].cv or {}).get("r2") for g in singles}
    if all(v is not None for v in cv.values()) and cv:
        names.append(max(cv, key=cv.get))
    if CONCAT in result.groups:
        dim = result.trained[CONCAT].dim
        if result.prefixes.num_prefixes * dim**2 <= concat_max_cost:
            names.append(CONCAT)
    return {g: tuple(result.groups[g]) for g in dict.fromkeys(names)}


def _network(acts, groups, y_NxC, beyond_NxS, w, folds, lbo_folds, subsets, lengths, rcond, grid) -> dict:
    """In-sample and held-out R^2 of each group onto the belief and the beyond-prediction target."""
    S = y_NxC.shape[1]
    both = np.concatenate([y_NxC, beyond_NxS], axis=1)
    blocks = {site: acts[site] for sites in groups.values() for site in sites}
    members = {g: list(sites) for g, sites in groups.items()}
    fitted = in_sample(blocks, members, both, w, rcond)
    held = [nested_cv(blocks, members, both, w, f, grid) for f in folds]
    lbo = [nested_cv(blocks, members, both, w, f, grid) for f in lbo_folds]
    beyond_total = float(np.sum(w @ (beyond_NxS - w @ beyond_NxS / w.sum()) ** 2))
    out = {}
    for g in groups:
        entry = {
            "r2": weighted_r2(y_NxC, fitted[g][:, :S], w),
            "cv": seed_summary(y_NxC, [h[g].yhat_NxC[:, :S] for h in held], w, lengths, subsets),
            "rcond_chosen": sorted({r for h in held for r in h[g].rcond_F}),
        }
        if lbo:
            entry["leave_belief_state_out"] = seed_summary(
                y_NxC, [h[g].yhat_NxC[:, :S] for h in lbo], w, folds=LEAVE_BELIEF_STATE_OUT
            )
        if beyond_total > 1e-12 * w.sum():
            entry["beyond_prediction"] = {
                "r2": weighted_r2(beyond_NxS, fitted[g][:, S:], w),
                "cv": seed_summary(beyond_NxS, [h[g].yhat_NxC[:, S:] for h in held], w)["r2"],
            }
        else:
            entry["beyond_prediction"] = None  # the belief is a function of the next-token distribution
        out[g] = entry
    return out


def _ratios(network: dict, linear: list, lookup: list) -> dict:
    """Per group: the network's held-out `1 - R^2` over each baseline's held-out `1 - R^2` (per k)."""
    out = {}
    for g, entry in network.items():
        r2 = entry["cv"]["r2"]["mean"]
        out[g] = {
            "linear": [{"k": b["k"], **unexplained_ratio(r2, b["cv"]["r2"]["mean"])} for b in linear],
            "lookup": [{"k": b["k"], **unexplained_ratio(r2, b["cv"]["r2"]["mean"])} for b in lookup],
        }
    return out


def _best(baselines: list) -> dict:
    best = max(baselines, key=lambda b: b["cv"]["r2"]["mean"] if b["cv"]["r2"]["mean"] is not None else -np.inf)
    return {"k": best["k"], "cv_r2": best["cv"]["r2"]["mean"], "r2": best["r2"]}


def _icl_token_history(prefixes, w, folds: list, max_k: int) -> dict:
    """The token-history baselines of each in-context target (`icl_targets`: a mixture's component posterior,
    a pool's posterior-mean transition matrices): `{target: {best_linear, best_lookup}}` (empty otherwise)."""
    out = {}
    for name, y_NxC in icl_targets(prefixes).items():
        linear = linear_history(prefixes, y_NxC, w, folds, max_k)
        lookup = lookup_history(prefixes, y_NxC, w, folds, max_k)
        out[name] = {"best_linear": _best(linear), "best_lookup": _best(lookup)}
    return out


def _controls(result, groups) -> dict:
    """The main analysis' untrained control and held-out shuffle null for the same groups (its weighting,
    random folds)."""
    out = {}
    for g in groups:
        trained = result.trained[g].targets["belief"]
        untrained = result.untrained[g].targets["belief"] if result.untrained else None
        out[g] = {
            "weighting": result.settings.weighting,
            "untrained_r2": untrained.metrics["r2"] if untrained else None,
            "untrained_cv_r2": (untrained.cv or {}).get("r2") if untrained else None,
            "folds": RANDOM,  # of untrained_cv_r2, heldout_null and random_folds_cv_r2
            "heldout_null": trained.cv_null.summary() if trained.cv_null else None,
            "random_folds_cv_r2": (trained.cv or {}).get("r2"),
        }
    return out


def referee_ladder(result, model, **options) -> dict:
    """Everything the ladder measures for one trained model and its `AnalysisResult` (see `_ladder` for the
    options), with one BLAS thread throughout (many small products: threads only contend on a busy machine)."""
    with one_blas_thread():
        return _ladder(result, model, **options)


def _ladder(
    result,
    model,
    *,
    max_k: int | None = None,
    fold_seeds: int = 5,
    rcond_grid=RCOND_GRID,
    weightings=("prob", "uniform"),
    leave_belief_state_out: bool = True,
    pairs: bool = True,
    concat_max_cost: float = 5e9,
    token_history: bool = True,
    batch_size: int = DEFAULT_BATCH,
) -> dict:
    """`max_k`: longest token history (None: the context); `fold_seeds` stratified fold assignments;
    `rcond_grid` for the nested choice; `weightings` side by side; `concat_max_cost` bounds prefixes x
    columns² of the concatenation's fits; `pairs`: the per-site separation of shared-prediction pairs;
    `token_history=False` leaves out the baselines (they depend on the process only, not on the model)."""
    start = time.perf_counter()
    seconds = {}
    p, settings = result.prefixes, result.settings
    folds_k = settings.cv_folds
    max_k = min(max_k or p.context_length, p.context_length)
    classes = belief_classes(p.beliefs)
    singleton = class_sizes(classes) == 1
    subsets = {"singleton_beliefs": singleton, "shared_beliefs": ~singleton}
    folds = [stratified_folds(classes, folds_k, numpy_rng(settings.seed, "ladder_folds", i)) for i in range(fold_seeds)]
    num_classes = int(classes.max()) + 1
    lbo_folds = (
        [group_folds(classes, folds_k, numpy_rng(settings.seed, "ladder_folds", 1000 + i)) for i in range(fold_seeds)]
        if leave_belief_state_out and num_classes >= folds_k
        else []
    )
    groups = ladder_groups(result, concat_max_cost)
    pair_list = shared_prediction_pairs(p)[1] if pairs else []
    singles = [g for g, sites in result.groups.items() if len(sites) == 1]
    every_site = tuple(dict.fromkeys(s for members in result.groups.values() for s in members))
    acts = result.activations
    if acts is None or not set(every_site) <= set(acts):
        acts = collect_activations(model, p, every_site, batch_size)  # the analysis' compiled forward pass
    seconds["activations"] = time.perf_counter() - start
    out = {
        "groups": {g: list(s) for g, s in groups.items()},
        "settings": {
            "max_k": max_k,
            "fold_seeds": fold_seeds,
            "cv_folds": folds_k,
            "rcond_grid": list(rcond_grid),
            "weightings": list(weightings),
            "leave_belief_state_out": bool(lbo_folds),
            "in_sample_rcond": settings.rcond,
        },
        "classes": {
            "num_belief_classes": num_classes,
            "num_singleton_prefixes": int(singleton.sum()),
            "num_shared_prefixes": int((~singleton).sum()),
        },
        "controls": _controls(result, groups),
        "weightings": {},
    }
    for weighting in weightings:
        t0 = time.perf_counter()
        w = p.weights(weighting)
        ceiling, beyond = prediction_ceiling(p, w, folds)
        network = _network(
            acts, groups, p.beliefs, beyond, w, folds, lbo_folds, subsets, p.lengths, settings.rcond, rcond_grid
        )
        t1 = time.perf_counter()
        out["weightings"][weighting] = {
            "effective_sample_size": p.effective_sample_size(weighting),
            "singleton_weight_share": float(w[singleton].sum() / w.sum()),
            "network": network,
            "prediction_ceiling": ceiling,
        }
        if token_history:
            linear = linear_history(p, p.beliefs, w, folds, max_k)
            lookup = lookup_history(p, p.beliefs, w, folds, max_k)
            out["weightings"][weighting].update(
                token_history={
                    "linear": linear,
                    "lookup": lookup,
                    "best_linear": _best(linear),
                    "best_lookup": _best(lookup),
                },
                ratios=_ratios(network, linear, lookup),
            )
            out["weightings"][weighting]["icl_targets"] = _icl_token_history(p, w, folds, max_k)
        seconds[f"{weighting}_network"], seconds[f"{weighting}_baselines"] = t1 - t0, time.perf_counter() - t1
    if pair_list:
        t0 = time.perf_counter()
        out["pair_separation"] = {
            site: pair_separation(
                acts[site], classes, pair_list, folds_k, numpy_rng(settings.seed, "ladder_pairs", 0), [settings.rcond]
            )
            for site in singles
        }
        seconds["pairs"] = time.perf_counter() - t0
    else:
        out["pair_separation"] = None  # no two beliefs share a next-token distribution (with enough prefixes)
    seconds["total"] = time.perf_counter() - start
    out["seconds"] = seconds
    return out
