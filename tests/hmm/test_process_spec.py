"""Processes from plain-data specs (as a YAML config holds them), and errors that name the field path."""

import numpy as np
import pytest

import hmm
from hmm import ProcessError

MIXTURE = {
    "name": "mixture",
    "weights": [0.25, 0.75],
    "components": [{"name": "mess3", "x": 0.05, "alpha": 0.85}, {"name": "mess3", "params": {"x": 0.15}}],
}


def test_mixture_spec_builds_the_same_process_as_the_api():
    built = hmm.process_from_spec(MIXTURE)
    direct = hmm.mixture([hmm.get_process("mess3"), hmm.get_process("mess3", x=0.15)], [0.25, 0.75])
    np.testing.assert_array_equal(built.transition_matrices, direct.transition_matrices)
    np.testing.assert_array_equal(built.initial_belief, direct.initial_belief)
    assert hmm.display_name(built) == "0.25 × Mess3 (x = 0.05, α = 0.85) + 0.75 × Mess3 (x = 0.15, α = 0.85)"


def test_other_spec_forms():
    assert hmm.process_from_spec({"name": "rrxor", "params": {"p1": 0.3}}).param_dict["p1"] == 0.3
    chain = hmm.process_from_spec({"name": "markov_chain", "matrix": [[0.9, 0.1], [0.5, 0.5]], "first": "uniform"})
    assert chain.num_states == 3
    pool = hmm.process_from_spec({"name": "markov_pool", "vocab_size": 3, "alpha": 0.5, "num_chains": 2, "seed": 4})
    np.testing.assert_array_equal(pool.transition_matrices, hmm.markov_pool(3, 0.5, 2, 4).transition_matrices)
    family = hmm.process_from_spec({"name": "dirichlet_markov", "vocab_size": 5, "alpha": 0.2})
    assert family == hmm.DirichletMarkov(5, 0.2)
    uniform = hmm.process_from_spec({"name": "mixture", "components": [{"name": "even"}, {"name": "golden_mean"}]})
    np.testing.assert_allclose(hmm.mixture_weights(uniform), [0.5, 0.5])


@pytest.mark.parametrize(
    "spec, match",
    [
        (
            {**MIXTURE, "components": [{"name": "mess3"}, {"name": "mess3", "alpha": 1.5}]},
            r"^process\.components\[1\]\.alpha: mess3: parameter alpha=1.5 is out of range",
        ),
        ({**MIXTURE, "weights": [0.5, 0.6]}, r"^process\.weights must sum to 1"),
        ({**MIXTURE, "weights": [0.5]}, r"^process\.weights must hold one number per component \(2\)"),
        (
            {**MIXTURE, "components": [{"name": "mess3"}, {"name": "mess4"}]},
            r"^process\.components\[1\]\.name: unknown process 'mess4'; valid names: .*mixture",
        ),
        ({**MIXTURE, "components": [{"name": "mess3"}, {"x": 0.1}]}, r"^process\.components\[1\]\.name is missing"),
        (
            {**MIXTURE, "components": [{"name": "mess3", "beta": 1}, {"name": "mess3"}]},
            r"^process\.components\[0\]\.beta: unknown field of mess3; valid: x, alpha",
        ),
        (
            {**MIXTURE, "components": [{"name": "even"}, {"name": "mess3"}]},
            r"^process\.components: components must share one vocabulary",
        ),
        (
            {**MIXTURE, "components": [{"name": "dirichlet_markov"}, {"name": "mess3"}]},
            r"^process\.components\[0\]: dirichlet_markov has no finite states",
        ),
        ({**MIXTURE, "components": "mess3"}, r"^process\.components must be a non-empty list"),
        ({**MIXTURE, "prior": [1]}, r"^process\.prior: unknown field of mixture; valid: components, weights"),
        ({"name": "mess3", "x": 0.1, "params": {"x": 0.2}}, r"^process\.x is given twice"),
        (
            {"name": "markov_chain", "matrix": [[0.9, 0.2], [0.5, 0.5]]},
            r"^process\.matrix: rows must sum to 1 .*row 0 sums to 1.1",
        ),
        ({"name": "markov_chain", "matrix": [[1.0]], "first": "last"}, r"^process\.first='last' is invalid"),
        ({"name": "dirichlet_markov", "alpha": -1}, r"^process\.alpha: dirichlet_markov: parameter alpha=-1"),
        (
            {"name": "markov_pool", "num_chains": 2.5},
            r"^process\.num_chains: markov_pool: parameter num_chains=2.5 must",
        ),
        ("mess3", r"^process must be a mapping with a 'name'"),
    ],
)
def test_spec_errors_name_the_field_path(spec, match):
    with pytest.raises(ProcessError, match=match):
        hmm.process_from_spec(spec)
