"""Sweeps over a markov_pool's pool size: grouping into one vmapped ensemble, and run directories that read as
solo runs (their own config, checkpoint and analysis), so `icl-diversity` measures them unchanged."""

import pytest
import yaml

from experiments.commands.icl_diversity import measure_runs, run_dirs
from experiments.grid import expand, group_for_ensembles
from experiments.runner import load_run_config
from experiments.sweep import ensemble_dir_name, sweep
from models.restore import load_checkpoint


def test_pool_sizes_of_a_markov_pool_group_into_one_ensemble_but_depths_do_not():
    _, points = expand(["pool_size=2,4,8", "seed=0..1", "model.n_layers=1,2"])
    groups = group_for_ensembles(points, "markov_pool")
    assert len(groups) == 2 and all(len(g) == 6 for g in groups)  # one ensemble per depth
    assert all(len({p["model.n_layers"] for p in g}) == 1 for g in groups)
    assert len(group_for_ensembles(points, "mess3")) == 6  # no pool to vmap: one ensemble per (M, depth)
    _, points = expand(["process.name=markov_pool,mess3", "process.params.num_chains=2,4"])
    assert sorted(len(g) for g in group_for_ensembles(points, "mess3")) == [1, 1, 2]


def test_ensemble_directory_names_stay_short_and_stable():
    assert ensemble_dir_name(["M=1-seed=0", "M=2-seed=0"]) == "ensemble-M=1-seed=0-M=2-seed=0"
    names = [f"M={m}-train.num_steps=800-seed={s}" for m in (1, 2, 4, 8, 16, 32, 64) for s in (0, 1)]
    long = ensemble_dir_name(names)
    assert len(long) <= 200 and long.startswith("ensemble-14-members-") and long == ensemble_dir_name(names)
    assert ensemble_dir_name(names[:-1] + ["other"]) != long


@pytest.mark.slow
def test_a_pool_size_sweep_is_one_ensemble_of_solo_looking_runs(tmp_path):
    config = tmp_path / "pool.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "base": "smoke",
                "process": {"name": "markov_pool", "params": {"vocab_size": 2, "num_chains": 8}},
                "train": {"num_steps": 20, "steps_per_call": 10, "eval_every": 10, "checkpoint_every": 10},
                "analysis": {"shuffles": 5, "cv_shuffles": 2, "emergence": False, "num_samples": 64},
                "ladder": {"enabled": False},
                "lens": {"enabled": False},
            }
        )
    )
    outcome = sweep(str(config), ["pool_size=1,4", "seed=0..1"], output_dir=str(tmp_path), progress=False)
    assert "4 runs" in outcome.summary and "(1 vmapped ensembles of 4 members)" in outcome.summary
    dirs = run_dirs([outcome.sweep_dir])
    assert len(dirs) == 4
    for run_dir in dirs:
        config = load_run_config(run_dir)
        checkpoint = load_checkpoint(run_dir / "checkpoints")
        assert checkpoint.process["params"]["num_chains"] == config.process.params["num_chains"]
        assert checkpoint.train_config.seed == config.train.seed
        assert (run_dir / "analysis.json").is_file()
    rows = measure_runs(dirs, 32, 0)
    assert sorted(r["pool_size"] for r in rows) == [1, 1, 4, 4]
