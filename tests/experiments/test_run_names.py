"""Overrides that change training get their own run directory; a shorter run drops inherited checkpoint steps."""

import pytest

import experiments.runner as runner
from experiments.cli import main
from experiments.config.experiment import load_config
from experiments.config.run_name import derived_run_name
from models.config import ConfigError
from tests.experiments.conftest import TINY


def test_training_overrides_derive_the_run_name():
    overrides = ["train.num_steps=2000", "model.n_layers=2"]
    assert derived_run_name("rrxor", overrides) == "rrxor-num_steps=2000-n_layers=2"
    assert derived_run_name("rrxor", overrides + ["name=mine"]) == "rrxor"
    # bookkeeping a checkpoint resumes with, and the analysis, keep the plain name
    assert (
        derived_run_name(
            "rrxor", ["train.eval_every=50", "train.checkpoint_steps=[5]", "analysis.shuffles=3", "output_dir=/tmp/x"]
        )
        == "rrxor"
    )
    assert derived_run_name("mess3", ["process.params.x=0.1"]) == "mess3-x=0.1"
    assert derived_run_name("m", ["model.act_fn=a/b c"]) == "m-act_fn=a_b_c", "filesystem-safe"
    assert derived_run_name("m", ["train.seed=1", "model.seed=2"]) == "m-train.seed=1-model.seed=2"


def test_run_command_says_the_derived_directory_and_a_plain_run_stays_apart(tmp_path, monkeypatch, capsys):
    started = []
    monkeypatch.setattr(runner, "run", lambda config, progress: started.append(config) or _Done())
    assert main(["run", "smoke", "train.num_steps=40", "model.n_layers=2", "--output-dir", str(tmp_path)]) == 0
    assert main(["run", "smoke", "--output-dir", str(tmp_path)]) == 0
    derived, plain = started
    assert derived.run_dir == tmp_path / "smoke-num_steps=40-n_layers=2" and derived.model.n_layers == 2
    assert plain.run_dir == tmp_path / "smoke"
    assert f"run directory: {tmp_path / 'smoke-num_steps=40-n_layers=2'}" in capsys.readouterr().out


class _Done:
    summary = "done"


def test_shorter_run_drops_inherited_checkpoint_steps_past_its_end():
    config = load_config("mess3", ["train.num_steps=300"])  # mess3 snapshots at 50, 100, 200, 400, 700, ...
    assert config.train.num_steps == 300 and config.train.checkpoint_steps == (50, 100, 200)
    assert load_config("mess3").train.checkpoint_steps == (50, 100, 200, 400, 700, 1000, 1500)
    with pytest.raises(ConfigError, match=r"checkpoint_steps\[\]=400 is invalid"):  # given here: strict
        load_config("mess3", ["train.num_steps=300", "train.checkpoint_steps=[100,400]"])


def test_refusal_of_another_training_gives_the_name_to_use(tiny_run, capsys):
    argv = ["run", "smoke", *TINY, "model.d_model=24", "name=smoke", "--output-dir", tiny_run.output_dir, "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "belongs to a different run" in err and "d_model: checkpoint has 16, this run has 24" in err
    assert f"add name=smoke-d_model=24 to the command (run directory {tiny_run.output_dir}/smoke-d_model=24)" in err
