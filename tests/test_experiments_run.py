"""End-to-end: `run` fills the run directory; a killed run resumes to the same numbers."""

import json
import shutil

import pytest
import yaml

from experiments.config import load_config
from experiments.run_files import read_jsonl
from experiments.runner import run

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
    for name, path in report["figures"].items():
        assert (run_dir / path).stat().st_size > 1000, name
    assert {"geometry", "r2_by_site", "r2_vs_tokens", "emergence_grid", "emergence_gif",
            "training_curves"} <= set(report["figures"])
    assert len(report["training"]["checkpoints"]) == 3
    page = (run_dir / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 5 and 'src="http' not in page
    assert "relative loss" in outcome.summary and "blocks.0.resid_post" in outcome.summary
    cv = report["trained"]["blocks.0.resid_post"]["targets"]["belief"]["cv"]
    assert cv["shuffle"]["num_permutations"] == 10
    assert "Regression onto the belief by site" in page and f"{cv['r2']:.6g}</td>" in page


def test_training_beats_the_untrained_control(finished):
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
