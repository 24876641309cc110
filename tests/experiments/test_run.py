"""End-to-end: `run` fills the run directory; a killed run resumes to the same numbers."""

import json
import os
import pickle
import re
import shutil

import numpy as np
import pytest
import yaml

from analysis.atomic import read_jsonl
from experiments.cli import main
from experiments.config.experiment import load_config
from experiments.runner import run
from models import CheckpointError, ConfigError, list_checkpoints, load_checkpoint

FAST = ["analysis.shuffles=20", "analysis.cv_folds=3", "analysis.cv_shuffles=10", "analysis.emergence_shuffles=5"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    config = load_config("smoke", FAST + [f"output_dir={out}"])
    return config, run(config, progress=False)


def test_run_directory_layout(finished):
    config, outcome = finished
    run_dir = outcome.run_dir
    assert yaml.safe_load((run_dir / "config.yaml").read_text()) == config.to_dict()
    metrics = read_jsonl(run_dir / "metrics.jsonl")
    assert [m["step"] for m in metrics] == [0, 20, 40, 60]
    assert sorted(int(p.name) for p in (run_dir / "checkpoints").iterdir() if p.name.isdigit()) == [0, 30, 60]
    report = json.loads((run_dir / "analysis.json").read_text())
    assert report["loss"]["relative"] == pytest.approx(metrics[-1]["eval/relative_loss"])
    assert report["loss"]["relative"] >= 1.0 - 1e-6, "no model beats the Bayes-optimal loss"
    import jax

    assert report["environment"]["jax"] == jax.__version__ and report["environment"]["cpu_count"] >= 1
    for name, path in report["figures"].items():
        assert (run_dir / path).stat().st_size > 1000, name
    assert {"geometry", "r2_by_site", "r2_vs_tokens", "emergence_grid", "emergence_gif", "training_curves"} <= set(
        report["figures"]
    )
    assert len(report["training"]["checkpoints"]) == 3
    page = (run_dir / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 5 and 'src="http' not in page
    assert "relative loss" in outcome.summary and "blocks.0.resid_post" in outcome.summary
    cv = report["trained"]["blocks.0.resid_post"]["targets"]["belief"]["cv"]
    assert cv["shuffle"]["num_permutations"] == 10
    assert "Regression onto the belief by site" in page and f"{cv['r2']:.6g}</td>" in page


def test_trained_belief_r2_beats_its_shuffle_null_and_training_lowers_the_loss(finished):
    _, outcome = finished
    head = outcome.analysis["headline"]["belief"]
    assert head["r2"] > head["null_q99"]
    first, last = read_jsonl(outcome.run_dir / "metrics.jsonl")[0], read_jsonl(outcome.run_dir / "metrics.jsonl")[-1]
    assert last["eval/loss"] < first["eval/loss"]


def test_killed_run_resumes_to_the_same_numbers(finished, tmp_path):
    config, outcome = finished
    killed = tmp_path / config.name
    shutil.copytree(outcome.run_dir, killed)
    # the state a kill between the checkpoint at step 30 and the one at 60 leaves behind
    shutil.rmtree(killed / "checkpoints" / "60")
    lines = (killed / "metrics.jsonl").read_text().splitlines()
    (killed / "metrics.jsonl").write_text("\n".join(lines[:3]) + '\n{"step": 60, "eval/lo')
    for name in ("analysis.json", "report.html"):
        (killed / name).unlink()
    resumed = run(config.__class__(**{**config.__dict__, "output_dir": str(tmp_path)}), progress=False)
    assert resumed.resumed_from == 30
    assert read_jsonl(killed / "metrics.jsonl") == read_jsonl(outcome.run_dir / "metrics.jsonl")
    assert resumed.analysis["headline"] == outcome.analysis["headline"]


def _copy(outcome, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(outcome.run_dir, copy)
    return copy


def test_files_are_readable_like_any_other_file(finished):
    _, outcome = finished
    umask = os.umask(0o022)
    os.umask(umask)
    files = [p for p in outcome.run_dir.rglob("*") if p.is_file()]
    modes = {str(p.relative_to(outcome.run_dir)): oct(p.stat().st_mode & 0o777) for p in files}
    assert {"config.yaml", "analysis.json", "report.html", "metrics.jsonl", "figures/geometry.png"} <= set(modes)
    assert set(modes.values()) == {oct(0o666 & ~umask)}, modes


def test_training_loss_is_logged_at_every_step(finished):
    config, outcome = finished
    metrics = read_jsonl(outcome.run_dir / "metrics.jsonl")
    steps = [s for m in metrics for s in m["train/loss_steps"]]
    assert steps == list(range(1, config.train.num_steps + 1))  # 60 steps: one bin per step
    for row in metrics[1:]:  # each evaluation's train/loss is the mean over the steps since the last one
        assert np.mean(row["train/loss_values"]) == pytest.approx(row["train/loss"], rel=1e-12)


def test_resumed_run_says_what_it_does_and_times_each_stage(finished, tmp_path, capsys):
    config, outcome = finished
    copy = _copy(outcome, tmp_path)
    run(config.__class__(**{**config.__dict__, "name": copy.name, "output_dir": str(tmp_path)}), progress=True)
    err = capsys.readouterr().err.replace("\r", "\n")  # progress bars redraw with carriage returns
    assert f"training already finished (step 60 in {copy / 'checkpoints'})" in err
    for stage in (
        "analysis: belief regression",
        "ladder: token history",
        "emergence: the regression at every checkpoint",
        "lenses: logit",
        "report",
    ):
        assert re.search(rf"^{re.escape(stage)}.*: done in \d+\.\d s$", err, re.M), stage


def test_report_without_analysis_says_what_is_missing(finished, tmp_path, capsys):
    _, outcome = finished
    copy = _copy(outcome, tmp_path)
    (copy / "analysis.json").unlink()
    assert main(["report", str(copy)]) == 2
    err = capsys.readouterr().err
    assert "has no analysis.json" in err and f"belieflab analyze {copy}" in err


def test_corrupt_run_config_is_one_line_with_its_position(finished, tmp_path, capsys):
    _, outcome = finished
    copy = _copy(outcome, tmp_path)
    (copy / "config.yaml").write_text("name: x\nprocess: {name: mess3\n")
    assert main(["analyze", str(copy)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{copy / 'config.yaml'}, line 3, column 1" in err


def test_a_stray_file_in_checkpoints_is_named_never_skipped(finished, tmp_path, capsys):
    _, outcome = finished
    copy = _copy(outcome, tmp_path)
    shutil.rmtree(copy / "checkpoints" / "60")
    (copy / "checkpoints" / "60").write_bytes(pickle.dumps({"step": 60}))
    with pytest.raises(CheckpointError, match=re.escape(str(copy / "checkpoints" / "60")) + " is a file"):
        list_checkpoints(copy / "checkpoints")
    assert main(["analyze", str(copy)]) == 2
    assert "checkpoints/60 is a file" in capsys.readouterr().err


def test_a_truncated_checkpoint_is_one_line(finished, tmp_path):
    _, outcome = finished
    copy = _copy(outcome, tmp_path)
    for data in (copy / "checkpoints" / "60" / "state").rglob("d/*"):
        os.truncate(data, data.stat().st_size // 2)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(copy / "checkpoints")
    message = str(info.value)
    assert "checkpoints/60 is damaged" in message and "\n" not in message and "TensorStore" not in message


def test_unknown_sites_fail_before_training(tmp_path, capsys):
    assert main(["run", "smoke", "analysis.sites=[blocks.9.resid_post]", "--output-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "config.analysis.sites=['blocks.9.resid_post'] is invalid" in err and "1-layer model" in err
    assert not list(tmp_path.iterdir())
    with pytest.raises(ConfigError, match=r"config.analysis.concat\[0\]=\['embed', 'blocks.0.resid_pos'\]"):
        load_config("smoke", ["analysis.concat=[[embed, blocks.0.resid_pos]]"])


def test_a_damaged_analysis_json_is_one_line(finished, tmp_path, capsys):
    _, outcome = finished
    copy = _copy(outcome, tmp_path)
    (copy / "analysis.json").write_text('{"schema": "belieflab.analysis/1",\n "trained": {')
    assert main(["report", str(copy)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{copy / 'analysis.json'}, line 2, column" in err
