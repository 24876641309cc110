"""Fold assignments over distinct prefixes: random, stratified by belief state, and leave-belief-state-out.

A belief class is the set of prefixes whose beliefs agree on a grid of spacing `BELIEF_TOL`. Stratified folds
deal each class's members round-robin over the folds from a random start, so every class with at least two
members is in every training fold; leave-belief-state-out puts whole classes in one fold (a test of a
globally affine geometry: the held-out belief itself was never seen).
"""

import numpy as np

import hmm

BELIEF_TOL = 1e-7  # the mixed-state tree's own merge tolerance

# The fold scheme named beside every held-out number in analysis.json (key "folds")
RANDOM = "random"
STRATIFIED_BY_BELIEF = "stratified_by_belief"
LEAVE_BELIEF_STATE_OUT = "leave_belief_state_out"


def belief_classes(beliefs_NxS: np.ndarray, tol: float = BELIEF_TOL) -> np.ndarray:
    """`class_N`: equal (on a grid of spacing `tol`) beliefs share a class id."""
    return hmm.unique_beliefs(np.asarray(beliefs_NxS, np.float64), tol)[1]


def class_sizes(class_N: np.ndarray) -> np.ndarray:
    """`size_N`: how many prefixes share each prefix's class."""
    return np.bincount(class_N)[class_N]


def _check(num_rows: int, num_folds: int) -> None:
    if not 2 <= num_folds <= num_rows:
        raise ValueError(f"cv_folds={num_folds} is invalid: need 2 <= folds <= {num_rows} prefixes")


def random_folds(num_rows: int, num_folds: int, rng: np.random.Generator) -> np.ndarray:
    """A balanced random split: `fold_N` in 0..num_folds-1."""
    _check(num_rows, num_folds)
    return rng.permutation(num_rows) % num_folds


def stratified_folds(class_N: np.ndarray, num_folds: int, rng: np.random.Generator) -> np.ndarray:
    """Each class dealt round-robin over the folds in random order, from a running start (folds stay balanced)."""
    class_N = np.asarray(class_N)
    _check(len(class_N), num_folds)
    shuffled = rng.permutation(len(class_N))
    by_class = shuffled[np.argsort(class_N[shuffled], kind="stable")]  # random order within each class
    classes = class_N[by_class]
    first = np.searchsorted(classes, classes)  # row where each member's class starts
    rank = np.arange(len(by_class)) - first  # position within the class
    class_order = rng.permutation(classes.max() + 1)  # visit classes in random order for the running start
    sizes = np.bincount(classes, minlength=len(class_order))
    start = np.empty_like(sizes)
    start[class_order] = np.cumsum(np.concatenate([[0], sizes[class_order][:-1]]))
    fold_N = np.empty(len(class_N), np.int64)
    fold_N[by_class] = (start[classes] + rank) % num_folds
    return fold_N


def group_folds(class_N: np.ndarray, num_folds: int, rng: np.random.Generator) -> np.ndarray:
    """Whole classes per fold (leave-belief-state-out): classes in random order, cut into folds of similar size."""
    class_N = np.asarray(class_N)
    num_classes = int(class_N.max()) + 1
    if not 2 <= num_folds <= num_classes:
        raise ValueError(
            f"cv_folds={num_folds} is invalid for leave-belief-state-out: need 2 <= folds <= "
            f"{num_classes} belief classes"
        )
    sizes = np.bincount(class_N, minlength=num_classes)
    order = rng.permutation(num_classes)
    before = np.cumsum(sizes[order]) - sizes[order]  # prefixes dealt before each class, in random order
    fold_of_class = np.empty(num_classes, np.int64)
    fold_of_class[order] = np.minimum(before * num_folds // len(class_N), num_folds - 1)
    if len(np.unique(fold_of_class)) < num_folds:  # a class larger than a fold: deal classes round-robin
        fold_of_class[order] = np.arange(num_classes) % num_folds
    return fold_of_class[class_N]
