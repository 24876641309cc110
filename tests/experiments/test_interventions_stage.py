"""The interventions section of a run, `belieflab intervene`, and their one-line errors."""

import json

import pytest

from experiments.cli import main
from experiments.config.experiment import load_config, save_config
from experiments.runner import run
from models.config import ConfigError

FAST = [
    "analysis.shuffles=10",
    "analysis.cv_folds=3",
    "analysis.cv_shuffles=5",
    "analysis.emergence=false",
    "analysis.untrained_control=false",
    "interventions.enabled=true",
    "interventions.num_pairs=120",
    "interventions.carry_pairs=0",
    "interventions.steering_pairs=60",
]


@pytest.mark.parametrize(
    "override, field",
    [
        ("interventions.sites=[blocks.1.resid_post]", "config.interventions.sites"),  # smoke has one block
        ("interventions.sites=[blocks.0.attn_out]", "config.interventions.sites"),
        ("interventions.num_pairs=-3", "config.interventions.num_pairs"),
        ("interventions.modes=[first]", "config.interventions.modes"),
        ("interventions.target_belief=[0.5,0.6,0.1]", "config.interventions.target_belief"),
        ("interventions.target_belief=[0.5,0.5]", "config.interventions.target_belief"),
        ("interventions.pairs=3", "config.interventions"),
        ("interventions.prior_shift=true", "config.interventions.prior_shift"),  # smoke is not a mixture
        ("interventions.prior_shift=3", "config.interventions.prior_shift"),
    ],
)
def test_bad_interventions_config_names_the_field(override, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        load_config("smoke", [override])


@pytest.fixture()
def config_only(tmp_path):
    """A run directory with only its config: enough for input errors, which come before any checkpoint is read."""
    config = load_config("smoke", [f"output_dir={tmp_path}"])
    config.run_dir.mkdir(parents=True)
    save_config(config, config.run_dir / "config.yaml")
    return str(config.run_dir)


@pytest.mark.parametrize(
    "args, words",
    [
        (["--sites", "nope"], "--sites"),
        (["--sites", "blocks.4.resid_mid"], "--sites"),
        (["--target-belief", "0.5,0.6,0.1"], "off the simplex"),
        (["--target-belief", "a,b"], "--target-belief"),
        (["--pairs", "-1"], "--pairs"),
        (["--modes", "every"], "--modes"),
    ],
)
def test_intervene_input_errors_are_one_line(config_only, capsys, args, words):
    assert main(["intervene", config_only, *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "Traceback" not in err


def test_run_with_interventions_and_the_intervene_command(tmp_path, capsys):
    config = load_config("smoke", FAST + [f"output_dir={tmp_path}"])
    outcome = run(config, progress=False)
    report = json.loads((outcome.run_dir / "analysis.json").read_text())
    section = report["interventions"]
    patch = section["patching"]
    assert patch["num_pairs"] == 120 and section["steering"]["num_pairs"] == 60
    # two ways to hand the network the donor's input at the read position: identical outputs, identical scores
    assert patch["closed"]["all"]["embed"] == pytest.approx(patch["closed"]["last"]["ln_final"], abs=1e-4)
    for name in ("interventions_patching", "interventions_steering_kl", "interventions_steering_beliefs"):
        assert (outcome.run_dir / report["figures"][name]).stat().st_size > 1000
    page = (outcome.run_dir / "report.html").read_text()
    assert "Activation patching" in page and "Belief steering" in page
    assert (
        main(
            [
                "intervene",
                str(outcome.run_dir),
                "--pairs",
                "40",
                "--carry-pairs",
                "0",
                "--steering-pairs",
                "20",
                "--sites",
                "blocks.0.resid_post,ln_final",
                "--target-belief",
                "0.2,0.3,0.5",
                "--quiet",
            ]
        )
        == 0
    )
    assert "ln_final" in capsys.readouterr().out
    again = json.loads((outcome.run_dir / "analysis.json").read_text())["interventions"]
    assert again["settings"]["num_pairs"] == 40 and again["settings"]["target_belief"] == [0.2, 0.3, 0.5]
    assert list(again["steering"]["per_site"]) == ["blocks.0.resid_post", "ln_final"]
