"""Training: learns, is deterministic and chunking-invariant, stops on NaN, and resumes exactly."""

import numpy as np
import pytest
from flax import nnx

import hmm
import models
from models import CheckpointError, ModelConfig, TrainConfig, TrainingDiverged
from tests.interrupt import Crash, crash_at

P = hmm.get_process("mess3", x=0.05, alpha=0.85)
MC = ModelConfig(n_layers=2, d_model=16, n_heads=2, d_head=4, d_mlp=32, n_ctx=6)
TC = TrainConfig(
    num_steps=60,
    batch_size=16,
    steps_per_call=10,
    eval_every=20,
    checkpoint_every=20,
    warmup_steps=5,
    learning_rate=1e-2,
)


def params_of(model):
    return nnx.to_pure_dict(nnx.state(model))


def assert_same_params(a, b, exact=True):
    import jax

    for x, y in zip(jax.tree.leaves(params_of(a)), jax.tree.leaves(params_of(b))):
        if exact:
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
        else:
            np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One uninterrupted run with checkpoints (shared by several tests)."""
    directory = tmp_path_factory.mktemp("reference")
    seen = []
    result = models.train(P, MC, TC, checkpoint_dir=directory, on_eval=lambda s, m: seen.append(s), progress=False)
    return result, directory, seen


def test_training_learns_and_reports_metrics(reference):
    result, _, seen = reference
    assert seen == [0, 20, 40, 60] and [m["step"] for m in result.metrics] == seen
    first, last = result.metrics[0], result.metrics[-1]
    assert last["eval/relative_loss"] < first["eval/relative_loss"]
    assert last["tokens"] == 60 * 16 * 6 and "train/loss" not in first
    for key in (
        "train/loss",
        "train/relative_loss",
        "train/learning_rate",
        "eval/loss",
        "eval/relative_loss",
        "eval/kl",
        "eval/loss_by_position",
    ):
        assert key in last
    assert len(last["eval/loss_by_position"]) == MC.n_ctx and last["eval/exact"]
    assert last["eval/loss"] == pytest.approx(np.mean(last["eval/loss_by_position"]))
    assert last["eval/relative_loss"] == pytest.approx(last["eval/loss"] / hmm.optimal_loss(P, MC.n_ctx))


def test_same_seed_same_numbers_another_seed_other_numbers(reference):
    result, _, _ = reference
    again = models.train(P, MC, TC, progress=False)
    assert again.metrics == result.metrics
    assert_same_params(result.model, again.model)
    other = models.train(P, MC, TC.replace(seed=1), progress=False)
    assert other.metrics[0]["eval/loss"] != result.metrics[0]["eval/loss"]  # another init
    assert other.metrics[-1]["eval/loss"] != result.metrics[-1]["eval/loss"]


def test_grouping_steps_into_calls_or_microbatches_does_not_change_the_run(reference):
    result, _, _ = reference
    other = 2 if models.program.resolve_microbatches(TC, models.data_mesh()) == 1 else 1
    chunked = models.train(P, MC, TC.replace(steps_per_call=20, microbatches=other), progress=False)
    assert_same_params(result.model, chunked.model, exact=False)


def test_checkpoints_list_load_and_describe_themselves(reference):
    result, directory, _ = reference
    assert models.list_checkpoints(directory) == [0, 20, 40, 60]
    ck = models.load_checkpoint(directory)
    assert ck.step == 60 and ck.model_config == result.model_config and ck.train_config == TC
    assert ck.process["name"] == "mess3" and ck.metrics == result.metrics
    assert_same_params(ck.model, result.model)
    middle = models.load_checkpoint(directory, step=20)
    assert middle.metrics == result.metrics[:2]
    with pytest.raises(CheckpointError, match="no checkpoint for step 30"):
        models.load_checkpoint(directory, step=30)


def test_crash_then_resume_equals_uninterrupted(reference, tmp_path):
    result, _, _ = reference

    with pytest.raises(Crash):
        models.train(P, MC, TC, checkpoint_dir=tmp_path, on_eval=crash_at(40), progress=False)
    assert models.list_checkpoints(tmp_path) == [0, 20]  # the eval at 40 ran, its save did not
    seen = []
    resumed = models.train(P, MC, TC, checkpoint_dir=tmp_path, on_eval=lambda s, m: seen.append(s), progress=False)
    assert resumed.resumed_from == 20 and seen == [40, 60]
    assert resumed.metrics == result.metrics
    assert_same_params(resumed.model, result.model)
    finished = models.train(P, MC, TC, checkpoint_dir=tmp_path, progress=False)  # nothing left to do
    assert finished.resumed_from == 60 and finished.timing["steps"] == 0 and finished.metrics == result.metrics


def test_resume_with_another_config_is_an_error(reference):
    _, directory, _ = reference
    with pytest.raises(CheckpointError, match="d_model"):
        models.train(P, MC.replace(d_model=32), TC, checkpoint_dir=directory, progress=False)
    with pytest.raises(CheckpointError, match="learning_rate"):
        models.train(P, MC, TC.replace(learning_rate=0.5), checkpoint_dir=directory, progress=False)
    with pytest.raises(CheckpointError, match="process"):
        models.train(hmm.get_process("mess3", x=0.1, alpha=0.85), MC, TC, checkpoint_dir=directory, progress=False)


def test_corrupt_checkpoint_is_an_error_not_a_fresh_start(reference, tmp_path):
    import shutil

    _, directory, _ = reference
    copy = tmp_path / "copy"
    shutil.copytree(directory, copy)
    for f in (copy / "60" / "state").rglob("*"):
        if f.is_file() and f.name != "commit_success.txt":
            f.write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="60"):
        models.train(P, MC, TC, checkpoint_dir=copy, progress=False)
    (copy / "40" / "meta" / "metadata").write_text("{not json")
    with pytest.raises(CheckpointError):
        models.load_checkpoint(copy, step=40)


def test_nan_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    tc = TC.replace(learning_rate=1e30, checkpoint_every=10)  # parameters overflow within a few steps
    with pytest.raises(TrainingDiverged, match=r"at step (\d+); the last good checkpoint is step (\d+)") as err:
        models.train(P, MC, tc, checkpoint_dir=tmp_path, progress=False)
    import re

    bad, good = map(int, re.search(r"at step (\d+); the last good checkpoint is step (\d+)", str(err.value)).groups())
    assert bad > good and models.list_checkpoints(tmp_path)[-1] == good
    assert np.isfinite(models.load_checkpoint(tmp_path).metrics[0]["eval/loss"])


def test_keep_checkpoints_and_extra_checkpoint_steps(tmp_path):
    tc = TC.replace(checkpoint_every=30, checkpoint_steps=(10,), keep_checkpoints=None)
    models.train(P, MC, tc, checkpoint_dir=tmp_path / "all", progress=False)
    assert models.list_checkpoints(tmp_path / "all") == [0, 10, 30, 60]
    models.train(P, MC, tc.replace(keep_checkpoints=2), checkpoint_dir=tmp_path / "two", progress=False)
    assert models.list_checkpoints(tmp_path / "two") == [30, 60]


KILLED_RUN = """
import json, sys, time
import hmm, models
cfg = json.loads(sys.argv[2])
models.train(hmm.get_process("mess3", x=0.05, alpha=0.85), models.ModelConfig.from_dict(cfg["model"]),
             models.TrainConfig.from_dict(cfg["train"]), checkpoint_dir=sys.argv[1],
             on_eval=lambda step, metrics: time.sleep(0.4), progress=False)
"""


def test_sigkill_at_a_random_moment_then_resume_equals_uninterrupted(tmp_path):
    import json
    import os
    import random
    import signal
    import subprocess
    import sys
    import time

    tc = TC.replace(eval_every=10, checkpoint_every=10)
    script = tmp_path / "run.py"
    script.write_text(KILLED_RUN)
    directory = tmp_path / "ckpt"
    cfg = json.dumps({"model": MC.to_dict(), "train": tc.to_dict()})
    proc = subprocess.Popen([sys.executable, str(script), str(directory), cfg], stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while not (directory / "10").exists():
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert time.time() < deadline
        time.sleep(0.05)
    delay = random.uniform(0.0, 1.5)  # anywhere in training, evaluation or saving
    time.sleep(delay)
    assert proc.poll() is None, f"the run finished before the kill ({delay:.2f}s)"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = models.list_checkpoints(directory)
    assert done and done[-1] < 60, done
    resumed = models.train(P, MC, tc, checkpoint_dir=directory, progress=False)
    uninterrupted = models.train(P, MC, tc, progress=False)
    assert resumed.resumed_from == done[-1], (delay, done)
    assert resumed.metrics == uninterrupted.metrics, delay
    assert_same_params(resumed.model, uninterrupted.model)
