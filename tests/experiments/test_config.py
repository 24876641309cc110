"""Config loading: shipped names, base inheritance, overrides, and errors that name the field path."""

import pytest
import yaml

from experiments.config.experiment import load_config, shipped_configs
from experiments.grid import expand, group_for_ensembles
from models.config import ConfigError


def test_shipped_configs_all_load():
    names = shipped_configs()
    assert {"mess3", "mess3-paper", "rrxor", "rrxor-paper", "smoke"} <= set(names)
    for name in names:
        config = load_config(name)
        assert config.name == name
        assert config.model.vocab_size is not None


def test_paper_configs_hold_the_paper_hyperparameters():
    mess3 = load_config("mess3-paper")
    assert (mess3.train.optimizer, mess3.train.learning_rate, mess3.train.batch_size) == ("sgd", 0.01, 64)
    assert (mess3.model.n_layers, mess3.model.d_model, mess3.model.d_head, mess3.model.d_mlp) == (4, 64, 8, 256)
    rrxor = load_config("rrxor-paper")
    assert (rrxor.model.d_model, rrxor.model.n_heads, rrxor.model.d_head, rrxor.model.d_mlp) == (128, 4, 16, 512)
    assert rrxor.process.name == "rrxor" and rrxor.model.vocab_size == 2


def test_overrides_and_base_inheritance(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({"base": "smoke", "train": {"learning_rate": "1e-3"}}))
    config = load_config(path, ["model.n_layers=2", "process.name=rrxor"])
    assert config.name == "mine"
    assert config.train.learning_rate == 0.001
    assert config.model.n_layers == 2 and config.model.d_model == 16  # the rest comes from smoke
    assert config.process.name == "rrxor" and config.process.params == {}  # mess3's params dropped


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["train.lr=0.1"], r"config.train has no field 'lr'; allowed: optimizer, learning_rate"),
        (["model.n_layers=four"], r"config.model.n_layers='four' has the wrong type: expected int"),
        (["model.n_layers=0"], r"config.model.n_layers=0 is invalid: must be an integer >= 1"),
        (["train.optimizer=rmsprop"], r"config.train.optimizer='rmsprop' is invalid: must be one of"),
        (["process.params.x=0.9"], r"config.process: mess3: parameter x=0.9 is out of range"),
        (["analysis.sites=everything"], r"config.analysis.sites='everything' is invalid"),
        (["nonsense"], r"override 'nonsense' must look like section.field=value"),
    ],
)
def test_errors_name_the_field(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config("smoke", overrides)


def test_unknown_config_lists_shipped_ones():
    with pytest.raises(ConfigError, match=r"no config file or shipped config named 'mess4'; shipped: .*mess3"):
        load_config("mess4")


def test_sweep_grid_expansion_and_ensemble_grouping():
    keys, points = expand(["lr=0.001,0.003", "seed=0..2", "model.n_layers=1,2"])
    assert keys == ["train.learning_rate", "train.seed", "model.n_layers"]
    assert len(points) == 12
    groups = group_for_ensembles(points)
    assert len(groups) == 2 and all(len(g) == 6 for g in groups)  # one ensemble per depth
    with pytest.raises(ConfigError, match="empty range"):
        expand(["seed=3..1"])
