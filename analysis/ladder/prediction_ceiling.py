"""The prediction-only ceiling: how much of the belief the Bayes next-token distribution alone determines.

A model that held only its prediction could reach at most the R^2 of the best function of that prediction
(the belief's weighted mean within each next-token group); what it holds beyond that shows in the "beyond
prediction" target `belief - E[belief | next-token distribution]`, and in whether a classifier separates
belief pairs that share a next-token distribution.
"""

import numpy as np

import hmm
from analysis.ladder.baselines import in_sample
from analysis.ladder.heldout_summary import seed_summary
from analysis.ladder.nested_cv import nested_cv
from analysis.regression.fit import RCOND
from analysis.regression.folds import BELIEF_TOL, belief_classes, stratified_folds
from analysis.regression.metrics import weighted_r2

PAIR_MIN_MEMBERS = 4  # a pair is testable when both beliefs have at least this many prefixes
MAX_PAIRS = 48  # at most this many pairs per site (the best-populated ones)
SEPARATED = 0.9  # balanced accuracy counted as "separated"


def group_means(groups_N: np.ndarray, y_NxC: np.ndarray, w_N: np.ndarray) -> np.ndarray:
    """Each row's weighted mean of `y` over its group."""
    n = int(groups_N.max()) + 1
    mass = np.bincount(groups_N, weights=w_N, minlength=n)
    sums = np.stack([np.bincount(groups_N, weights=w_N * col, minlength=n) for col in y_NxC.T], axis=1)
    return (sums / np.where(mass > 0, mass, 1.0)[:, None])[groups_N]


def prediction_ceiling(prefixes, w_N, folds: list) -> tuple[dict, np.ndarray]:
    """R^2 of the belief from an affine map of the next-token distribution (in sample, and held out over the
    fold assignments `folds`) and from the best function of it (in sample: the group means); returns the
    section and the "beyond prediction" target `[N, S]`."""
    beliefs = prefixes.beliefs
    predictive = hmm.predictive_distribution(prefixes.process, beliefs)
    groups = belief_classes(predictive, BELIEF_TOL)
    w = np.asarray(w_N, np.float64)
    blocks, fit = {"next_token": predictive}, {"affine": ["next_token"]}
    affine = in_sample(blocks, fit, beliefs, w)["affine"]
    held = [nested_cv(blocks, fit, beliefs, w, fold_N, [RCOND])["affine"].yhat_NxC for fold_N in folds]
    best = group_means(groups, beliefs, w)
    beyond = beliefs - best
    section = {
        "num_next_token_groups": int(groups.max()) + 1,
        "affine_r2": weighted_r2(beliefs, affine, w),
        "affine_cv": seed_summary(beliefs, held, w)["r2"],
        "best_function_r2": weighted_r2(beliefs, best, w),
        "beyond_prediction_variance_share": float(
            np.sum(w @ beyond**2) / np.sum(w @ (beliefs - w @ beliefs / w.sum()) ** 2)
        ),
    }
    return section, beyond


def shared_prediction_pairs(prefixes, min_members: int = PAIR_MIN_MEMBERS) -> tuple[np.ndarray, list]:
    """Belief classes `class_N`, and the pairs of distinct beliefs with the same next-token distribution,
    both with at least `min_members` prefixes: `[(a, b, size_a + size_b)]`, best-populated first."""
    classes = belief_classes(prefixes.beliefs)
    first = np.unique(classes, return_index=True)[1]
    predictive = hmm.predictive_distribution(prefixes.process, prefixes.beliefs[first])
    pred_group = belief_classes(predictive, BELIEF_TOL)
    sizes = np.bincount(classes)
    pairs = []
    order = np.argsort(pred_group, kind="stable")  # classes grouped by prediction, ascending within a group
    for group in np.split(order, np.flatnonzero(np.diff(pred_group[order])) + 1):
        members = [int(c) for c in group if sizes[c] >= min_members]
        pairs += [(a, b, int(sizes[a] + sizes[b])) for i, a in enumerate(members) for b in members[i + 1 :]]
    return classes, sorted(pairs, key=lambda p: -p[2])


def balanced_accuracy(label_N: np.ndarray, score_N: np.ndarray) -> float:
    """Mean over the two classes (labels +1 / -1) of the share scored on the right side of zero."""
    return float(np.mean([np.mean(np.sign(score_N[label_N == s]) == s) for s in (1, -1)]))


def pair_separation(
    acts_NxD: np.ndarray,
    classes_N: np.ndarray,
    pairs: list,
    num_folds: int,
    rng: np.random.Generator,
    rcond_grid,
    max_pairs: int = MAX_PAIRS,
) -> dict:
    """Cross-validated balanced accuracy of a least-squares linear classifier (classes weighted equally) for
    each pair; folds stratified by class. `{num_testable, num_tested, accuracies, share_separated, median}`."""
    accuracies = []
    for a, b, _ in pairs[:max_pairs]:
        rows = np.flatnonzero((classes_N == a) | (classes_N == b))
        label = np.where(classes_N[rows] == a, 1.0, -1.0)
        w = np.where(label > 0, 1.0 / np.sum(label > 0), 1.0 / np.sum(label < 0))
        folds = stratified_folds(
            (label > 0).astype(np.int64), min(num_folds, int(np.sum(label > 0)), int(np.sum(label < 0))), rng
        )
        held = nested_cv({"x": acts_NxD[rows]}, {"x": ["x"]}, label[:, None], w, folds, rcond_grid)["x"]
        accuracies.append(balanced_accuracy(label, held.yhat_NxC[:, 0]))
    acc = np.array(accuracies)
    return {
        "num_testable": len(pairs),
        "num_tested": len(acc),
        "accuracies": acc,
        "share_separated": float(np.mean(acc >= SEPARATED)) if len(acc) else None,
        "median": float(np.median(acc)) if len(acc) else None,
    }
