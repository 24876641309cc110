"""The tiny mixture run the tests share (`mixture_run_once` in conftest.py): its overrides, and a copy to change."""

import dataclasses
import shutil

MIXTURE = [
    "process.name=mixture",
    "process.components=[{name: mess3}, {name: mess3, x: 0.15, alpha: 0.6}]",
    "process.weights=[0.4, 0.6]",
]
MIXTURE_TINY = [
    "analysis.shuffles=5",
    "analysis.cv_folds=3",
    "analysis.cv_shuffles=2",
    "analysis.emergence=false",
    "analysis.sites=[blocks.0.resid_post, ln_final]",
    "ladder.fold_seeds=2",
    "ladder.weightings=[prob]",
    "lens.enabled=false",
    "train.num_steps=20",
    "train.eval_sequences=64",
    "interventions.enabled=true",
    "interventions.sites=[ln_final]",
    "interventions.num_pairs=40",
    "interventions.carry_pairs=0",
    "interventions.steering_pairs=20",
    "interventions.prior_shift=true",
    "interventions.prior_shift_deltas=[1.5, -1.0]",
    "interventions.prior_shift_sequences=20",
]


def copy_of_run(config, tmp_path_factory):
    """The config of a fresh copy of `config`'s run directory (checkpoints included), free to change."""
    destination = tmp_path_factory.mktemp("copy")
    shutil.copytree(config.run_dir, destination / config.run_dir.name)
    return dataclasses.replace(config, output_dir=str(destination))
