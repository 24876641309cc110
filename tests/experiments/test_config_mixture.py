"""Mixture and Markov-pool processes in the experiment config: loading, field-path errors, checkpoint identity."""

import json

import numpy as np
import pytest

import hmm
from experiments.config.experiment import load_config, resolve_process
from models.checkpoint import process_record
from models.config import ConfigError

MIXTURE = [
    "process.name=mixture",
    "process.components=[{name: mess3}, {name: mess3, x: 0.15, alpha: 0.6}]",
    "process.weights=[0.4, 0.6]",
]


def test_mixture_config_resolves_to_the_mixture(tmp_path):
    config = load_config("smoke", MIXTURE)
    process = resolve_process(config.process)
    expected = hmm.mixture([hmm.get_process("mess3"), hmm.get_process("mess3", x=0.15, alpha=0.6)], [0.4, 0.6])
    np.testing.assert_array_equal(process.transition_matrices, expected.transition_matrices)
    np.testing.assert_array_equal(process.initial_belief, expected.initial_belief)
    assert config.model.vocab_size == 3
    assert config.to_dict()["process"]["weights"] == [0.4, 0.6]
    # a config file holding a mixture, overridden by another process name, drops the mixture's fields
    path = tmp_path / "mix.yaml"
    path.write_text("base: smoke\nprocess: {name: mixture, components: [{name: mess3}], weights: [1.0]}\n")
    assert load_config(path).process.components == ({"name": "mess3"},)
    renamed = load_config(path, ["process.name=rrxor"]).process
    assert (renamed.name, renamed.components, renamed.weights) == ("rrxor", (), ())


def test_markov_pool_config():
    config = load_config("smoke", ["process.name=markov_pool", "process.params={vocab_size: 4, num_chains: 3}"])
    assert config.model.vocab_size == 4 and resolve_process(config.process).component_sizes == (5, 5, 5)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            MIXTURE[:1] + ["process.components=[{name: mess3}, {name: mess3, alpha: 1.6}]"],
            r"^config\.process\.components\[1\]\.alpha: mess3: parameter alpha=1.6 is out of range",
        ),
        (MIXTURE[:2] + ["process.weights=[0.5, 0.6]"], r"^config\.process\.weights must sum to 1"),
        (MIXTURE[:1], r"^config\.process\.components must be a non-empty list"),
        (["process.weights=[1.0]"], r"^config\.process\.components and process\.weights apply to name: mixture"),
        (
            ["process.name=dirichlet_markov", "process.params={alpha: -1}"],
            r"^config\.process\.alpha: dirichlet_markov: parameter alpha=-1 is out of range",
        ),
        (
            ["process.name=dirichlet_markov", "process.params={vocab_size: 3, beta: 1}"],
            r"^config\.process\.beta: unknown field of dirichlet_markov; valid: vocab_size, alpha",
        ),
        (
            ["process.name=markov_pool", "process.params={num_chains: 0}"],
            r"^config\.process: markov_pool: .*num_chains",
        ),
    ],
)
def test_errors_name_the_field_path(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config("smoke", overrides)


def test_checkpoint_identity_of_a_mixture_survives_json():
    record = process_record(resolve_process(load_config("smoke", MIXTURE).process))
    assert json.loads(json.dumps(record)) == record
