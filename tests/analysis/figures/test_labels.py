"""What figures and reports print: display names, R² and p-values, site names, simplex limits, target notes."""

import itertools

import numpy as np
import pytest

import hmm
from analysis.figures.geometry import SIMPLEX_LIMITS, belief_view
from analysis.figures.labels import format_p, format_r2
from analysis.figures.simplex import simplex_xy
from analysis.ladder.prediction_map import prediction_determines_belief, prediction_matrix


def test_display_names():
    assert hmm.display_name(hmm.get_process("mess3", x=0.05, alpha=0.85)) == "Mess3 (x = 0.05, α = 0.85)"
    assert hmm.display_name(hmm.get_process("rrxor")) == "RRXOR (p1 = 0.5, p2 = 0.5)"
    assert hmm.display_name(hmm.from_matrices(hmm.get_process("even").transition_matrices)) == "custom"


@pytest.mark.parametrize(
    "r2, text",
    [(0.9995, "0.99950"), (0.99994, "0.999940"), (0.936, "0.936"), (-0.57, "-0.570"), (0.9999996, "> 0.999999")],
)
def test_r2_is_never_rounded_up_to_one(r2, text):
    assert format_r2(r2) == text


def test_p_values_at_the_permutation_floor():
    assert format_p(1 / 1001, 1000) == "p ≤ 0.001 (1,000 permutations)"
    assert format_p(1 / 101, 100, compact=True) == "≤0.01"
    assert format_p(35 / 1001, 1000) == "p = 0.035 (1,000 permutations)"


def test_simplex_limits_hold_the_frame_and_its_labels():
    beliefs = np.random.default_rng(0).dirichlet(np.ones(3) * 5, size=50)  # a cloud far from the corners
    view = belief_view(beliefs, np.ones(50), simplex=True)
    np.testing.assert_array_equal(view.limits_Kx2, SIMPLEX_LIMITS)
    corners = simplex_xy(np.eye(3))
    labels_y = corners[:, 1] + np.array([-0.06 - 0.06, -0.06 - 0.06, 0.03 + 0.05])  # label anchor + its height
    assert (view.limits_Kx2[0, 0] < corners[:, 0] - 0.1).all() and (corners[:, 0] + 0.1 < view.limits_Kx2[0, 1]).all()
    assert (view.limits_Kx2[1, 0] < labels_y).all() and (labels_y < view.limits_Kx2[1, 1]).all()


def _predictive_by_brute_force(process, eta_S):
    T = np.asarray(process.transition_matrices, np.float64)
    return np.array([eta_S @ T[x] @ np.asarray(process.right_vector) for x in range(process.vocab_size)])


@pytest.mark.parametrize("name, determines", [("mess3", True), ("rrxor", False), ("z1r", False), ("even", True)])
def test_when_the_prediction_determines_the_belief(name, determines):
    p = hmm.get_process(name)
    etas = np.random.default_rng(1).dirichlet(np.ones(p.num_states), size=4)
    for eta in etas:
        np.testing.assert_allclose(eta @ prediction_matrix(p), _predictive_by_brute_force(p, eta), atol=1e-12)
    assert prediction_determines_belief(p) == determines
    # injective on the simplex exactly when no two beliefs share a prediction: search a grid for a collision
    grid = np.array([c for c in itertools.product(np.linspace(0, 1, 9), repeat=p.num_states) if abs(sum(c) - 1) < 1e-9])
    preds = grid @ prediction_matrix(p)
    gaps = [np.abs(preds[i] - preds[j]).max() for i, j in itertools.combinations(range(len(grid)), 2)]
    assert (min(gaps) < 1e-12) == (not determines)


def test_two_states_with_the_same_emissions_are_not_determined():
    T = np.zeros((2, 2, 2))
    T[0] = [[0.25, 0.25], [0.25, 0.25]]
    T[1] = [[0.5, 0.0], [0.0, 0.5]]
    assert not prediction_determines_belief(hmm.from_matrices(T))
