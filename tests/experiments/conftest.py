"""Tiny trained runs shared by the tests that need checkpoints (20 steps of the smoke model, no lenses): one of
Mess3, one of a two-component Mess3 mixture."""

import pytest

from tests.experiments.tiny_mixture import MIXTURE, MIXTURE_TINY, copy_of_run

TINY = [
    "analysis.shuffles=10",
    "analysis.cv_folds=3",
    "analysis.cv_shuffles=5",
    "analysis.emergence=false",
    "analysis.untrained_control=false",
    "ladder.enabled=false",
    "lens.enabled=false",
    "train.num_steps=20",
]


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """The finished run's config (its `run_dir` holds checkpoints, analysis.json, figures and report.html)."""
    from experiments.config.experiment import load_config
    from experiments.runner import run

    config = load_config("smoke", TINY + [f"output_dir={tmp_path_factory.mktemp('runs')}"])
    run(config, progress=False)
    return config


@pytest.fixture(scope="session")
def mixture_run_once(tmp_path_factory):
    """A tiny trained run of a two-component Mess3 mixture (`MIXTURE`) with every in-context part: untrained
    control, ladder, the icl stage, patching, steering and prior shift. Shared: use `mixture_run_copy`."""
    from experiments.config.experiment import load_config
    from experiments.runner import run

    config = load_config("smoke", MIXTURE + MIXTURE_TINY + [f"output_dir={tmp_path_factory.mktemp('runs')}"])
    run(config, progress=False)
    return config


@pytest.fixture(scope="module")
def mixture_run_copy(mixture_run_once, tmp_path_factory):
    """A module's own copy of the tiny mixture run (its config, `run_dir` the copy's)."""
    return copy_of_run(mixture_run_once, tmp_path_factory)
