"""Long reproductions (`python -m pytest -m slow`): the shipped `mess3` config end to end, checked against the
belief-geometry paper's numbers, and the same config killed with SIGKILL mid-training and resumed.

About 15-30 minutes on a 2-core CPU (two trainings of 8,000 steps plus their analyses).
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis.atomic import read_jsonl
from experiments.config.experiment import load_config
from experiments.runner import run
from models import list_checkpoints

pytestmark = pytest.mark.slow
PAPER_MSE = 0.000386  # the paper's belief-regression MSE for Mess3 (x = 0.05, α = 0.85), last layer
KILL_AFTER_STEP = 2000


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    config = load_config("mess3", [f"output_dir={tmp_path_factory.mktemp('runs')}"])
    return config, run(config, progress=False)


def test_mess3_reproduces_the_papers_belief_geometry(uninterrupted):
    config, outcome = uninterrupted
    report = outcome.analysis
    assert report["loss"]["relative"] < 1.003
    last = report["trained"][f"blocks.{config.model.n_layers - 1}.resid_post"]["targets"]["belief"]
    assert last["r2"] > 0.99 and last["cv"]["r2"] > 0.98
    assert last["mse_paper"] < PAPER_MSE  # at least as good as the paper's fit
    assert last["shuffle"]["p_value"] == pytest.approx(1 / (last["shuffle"]["num_permutations"] + 1))
    assert last["r2"] > report["untrained"][f"blocks.{config.model.n_layers - 1}.resid_post"]["targets"]["belief"]["r2"]


def test_mess3_killed_with_sigkill_resumes_to_the_same_numbers(uninterrupted, tmp_path):
    config, outcome = uninterrupted
    command = [sys.executable, "-m", "experiments.cli", "run", "mess3", "--output-dir", str(tmp_path), "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run_dir = tmp_path / config.name
    while KILL_AFTER_STEP not in list_checkpoints(run_dir / "checkpoints"):
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(2)
    time.sleep(5)  # somewhere in the steps after the checkpoint
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert subprocess.run(command, env=env, stdout=subprocess.DEVNULL).returncode == 0
    assert read_jsonl(run_dir / "metrics.jsonl") == read_jsonl(outcome.run_dir / "metrics.jsonl")
    resumed, reference = (json.loads((d / "analysis.json").read_text()) for d in (run_dir, outcome.run_dir))
    assert resumed["headline"] == reference["headline"] and resumed["trained"] == reference["trained"]
    assert resumed["training"]["checkpoints"] == reference["training"]["checkpoints"]
