"""A tiny trained run shared by the tests that need checkpoints (20 steps of the smoke model, no lenses)."""

import pytest

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
