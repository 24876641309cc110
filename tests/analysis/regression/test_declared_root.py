"""With a BOS position, the empty prefix's target is the process's initial belief, which a Markov pool declares
(each chain's start state) and which differs from its stationary distribution."""

from types import SimpleNamespace

import jax
import numpy as np

import hmm
from analysis.regression.prefixes import sampled_prefixes, tree_prefixes


def test_bos_row_holds_the_declared_initial_belief():
    pool = hmm.markov_pool(3, 1.0, 2, 0)
    start_states = np.zeros(pool.num_states)
    start_states[[3, 7]] = 0.5  # each chain's start state (its last state), with the uniform prior
    assert not np.allclose(pool.stationary_distribution, start_states)
    layout = SimpleNamespace(n_ctx=3, bos=True, bos_token=3)
    for prefixes in (
        tree_prefixes(hmm.mixed_state_presentation(pool, 3), layout),
        sampled_prefixes(pool, jax.random.key(0), 64, layout),
    ):
        root = prefixes.lengths == 0
        assert root.sum() == 1
        np.testing.assert_allclose(prefixes.beliefs[root][0], start_states)
