"""The task-diversity threshold on synthetic distance curves whose answer is known by construction."""

import numpy as np
import pytest

from analysis.icl.diversity import diversity_threshold


def test_switch_at_a_known_log_linear_crossing():
    M = 2.0 ** np.arange(1, 9)
    # log(d_dirichlet / d_pool) = -(log2 M - 4.5): the curves cross at M = 2^4.5 exactly
    to_pool = np.ones_like(M) * 0.1
    to_dirichlet = to_pool * np.exp(-(np.log2(M) - 4.5))
    out = diversity_threshold(M, to_pool, to_dirichlet)
    assert out["status"] == "switches" and out["threshold"] == 32.0
    assert out["crossing"] == pytest.approx(2**4.5)


def test_order_of_runs_does_not_matter_and_a_late_relapse_moves_the_threshold():
    M = [64, 2, 16, 4, 8, 32]
    closer_dirichlet = {2: False, 4: True, 8: False, 16: True, 32: True, 64: True}  # 4 is a blip
    to_pool = [1.0] * 6
    to_dirichlet = [0.5 if closer_dirichlet[m] else 2.0 for m in M]
    out = diversity_threshold(M, to_pool, to_dirichlet)
    assert out["threshold"] == 16.0
    assert out["crossing"] == pytest.approx(2**3.5)  # symmetric log ratios: halfway in log2 M


@pytest.mark.parametrize(
    "to_dirichlet, status, threshold",
    [
        ([2.0, 2.0, 2.0], "never", None),
        ([0.5, 0.5, 2.0], "never", None),  # closer to the pool at the largest M
        ([0.5, 0.5, 0.5], "always_dirichlet", 2.0),
    ],
)
def test_no_switch(to_dirichlet, status, threshold):
    out = diversity_threshold([2, 4, 8], [1.0, 1.0, 1.0], to_dirichlet)
    assert (out["status"], out["threshold"], out["crossing"]) == (status, threshold, None)
