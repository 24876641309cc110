"""Run directories: unwritable paths are refused before any work, one writer at a time, metrics steps increase.

Tests run as root, and root passes every permission bit, so an unwritable directory is simulated two ways:
a file where a directory is needed (fails for every user), and `os.access` answering "no" for one path (what an
ordinary user sees for a read-only directory)."""

import json
import os
import socket
import subprocess

import pytest

from experiments import runner
from experiments.cli import main
from experiments.config.experiment import load_config, save_config
from experiments.report.training_figure import train_loss_label
from experiments.run_lock import LOCK_NAME
from hmm.errors import DamagedFileError


def _must_not_run(*args, **kwargs):
    raise AssertionError("the heavy work started before the path was checked")


@pytest.fixture
def run_dir(tmp_path):
    """A run directory with its config and an empty analysis (enough for `report`, `analyze` and the checks)."""
    config = load_config("smoke", [f"output_dir={tmp_path}"])
    save_config(config, config.run_dir / "config.yaml")
    (config.run_dir / "analysis.json").write_text("{}\n")
    return config.run_dir


@pytest.fixture
def read_only(monkeypatch):
    """`os.access` says "not writable" for the paths added to the returned set (as for a non-root user)."""
    denied = set()
    real = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode, **kw: False if str(p) in denied and mode & os.W_OK else real(p, mode, **kw)
    )
    return denied


def _heavy_work_fails(monkeypatch):
    monkeypatch.setattr(runner, "train_stage", _must_not_run)
    monkeypatch.setattr(runner, "analysis_stage", _must_not_run)
    monkeypatch.setattr(runner, "report_stage", _must_not_run)
    monkeypatch.setattr("models.restore.load_checkpoint", _must_not_run)


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize("command", ["analyze", "report", "lens", "intervene", "ladder"])
def test_read_only_run_directory_is_refused_before_any_work(command, run_dir, read_only, monkeypatch, capsys):
    _heavy_work_fails(monkeypatch)
    read_only.add(str(run_dir))
    assert main([command, str(run_dir)]) == 2
    err = _one_line_error(capsys)
    assert f"run directory {run_dir} cannot be written: {run_dir} is not writable" in err and "permission" in err


def test_read_only_figures_folder_is_named(run_dir, read_only, monkeypatch, capsys):
    _heavy_work_fails(monkeypatch)
    (run_dir / "figures").mkdir()
    read_only.add(str(run_dir / "figures"))
    assert main(["analyze", str(run_dir)]) == 2
    assert f"{run_dir / 'figures'} is not writable" in _one_line_error(capsys)


def test_run_output_dir_that_is_a_file_is_refused_before_training(tmp_path, monkeypatch, capsys):
    _heavy_work_fails(monkeypatch)
    blocker = tmp_path / "results"
    blocker.write_text("not a folder")
    assert main(["run", "smoke", "--output-dir", str(blocker), "--quiet"]) == 2
    assert f"{blocker} is a file, not a directory" in _one_line_error(capsys)


def test_run_output_parent_not_writable_is_refused(tmp_path, read_only, monkeypatch, capsys):
    _heavy_work_fails(monkeypatch)
    read_only.add(str(tmp_path))
    assert main(["run", "smoke", "--output-dir", str(tmp_path / "new"), "--quiet"]) == 2
    err = _one_line_error(capsys)
    assert f"its parent {tmp_path} is not writable" in err


def test_compare_output_dir_that_is_a_file_and_missing_run(tmp_path, capsys):
    blocker = tmp_path / "out"
    blocker.write_text("")
    assert main(["compare", str(tmp_path), "--output-dir", str(blocker / "sub")]) == 2
    assert f"--output-dir {blocker / 'sub'} cannot be written: {blocker} is a file" in _one_line_error(capsys)
    assert main(["compare", str(tmp_path / "nowhere"), "--output-dir", str(tmp_path / "c")]) == 2
    assert f"run directory {tmp_path / 'nowhere'} does not exist" in _one_line_error(capsys)


@pytest.fixture
def live_process():
    proc = subprocess.Popen(["sleep", "60"])
    yield proc.pid
    proc.kill()
    proc.wait()


def _lock(run_dir, pid, host=None):
    (run_dir / LOCK_NAME).write_text(
        json.dumps({"pid": pid, "host": host or socket.gethostname(), "command": "belieflab run", "since": 0})
    )


@pytest.mark.parametrize("command", ["run", "analyze", "report"])
def test_second_writer_is_refused_naming_the_holder(command, run_dir, live_process, monkeypatch, capsys):
    _heavy_work_fails(monkeypatch)
    _lock(run_dir, live_process)
    argv = ["run", "smoke", "--output-dir", str(run_dir.parent)] if command == "run" else [command, str(run_dir)]
    assert main(argv + ["--quiet"] * (command != "report")) == 2
    err = _one_line_error(capsys)
    assert f"{run_dir} is in use by pid {live_process} on {socket.gethostname()} (belieflab run" in err
    assert (run_dir / LOCK_NAME).is_file(), "the holder's lock stays"


def test_lock_of_another_host_is_never_taken_over(run_dir, monkeypatch, capsys):
    _heavy_work_fails(monkeypatch)
    _lock(run_dir, 1, host="elsewhere.example")
    assert main(["report", str(run_dir)]) == 2
    assert "in use by pid 1 on elsewhere.example" in _one_line_error(capsys)


def test_stale_lock_of_a_dead_process_is_taken_over_and_said(run_dir, capsys):
    dead = subprocess.Popen(["true"])
    dead.wait()
    _lock(run_dir, dead.pid)
    assert main(["report", str(run_dir)]) == 0
    err = capsys.readouterr().err
    assert f"taking over the stale lock of pid {dead.pid}" in err and "no longer running" in err
    assert not (run_dir / LOCK_NAME).exists(), "released when done"


def _interleaved_metrics(run_dir):
    lines = [{"step": s, "eval/loss": 1.0} for s in (0, 0, 20, 20, 40, 60, 40, 60)]
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))


def test_report_refuses_metrics_whose_steps_do_not_increase(run_dir, capsys):
    _interleaved_metrics(run_dir)
    assert main(["report", str(run_dir)]) == 2
    err = _one_line_error(capsys)
    assert "metrics.jsonl, line 2: step 0 follows step 0 (line 1)" in err


def test_resume_refuses_metrics_whose_steps_do_not_increase(run_dir, monkeypatch):
    _interleaved_metrics(run_dir)
    monkeypatch.setattr(runner, "list_checkpoints", lambda directory: [60])
    with pytest.raises(DamagedFileError, match="line 2: step 0 follows step 0"):
        runner.prepare_metrics([run_dir], run_dir / "checkpoints")


def test_training_loss_legend_counts_steps_and_never_goes_negative():
    assert train_loss_label(range(1, 61)) == "training loss (batch mean over 1 step)"
    assert train_loss_label(range(20, 101, 20)) == "training loss (batch mean over 20 steps)"
    interleaved = [20, 40, 20, 40, 60, 80, 60, 80]  # two runs into one file
    assert train_loss_label(interleaved).endswith("(batch mean over 20 steps)")


def test_lens_llm_output_dir_under_a_file_is_refused_before_the_model_loads(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("models.pretrained.load_pretrained", _must_not_run)
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["lens-llm", "--output-dir", str(blocker / "run"), "--quiet"]) == 2
    assert f"--output-dir {blocker / 'run'} cannot be written: {blocker} is a file" in _one_line_error(capsys)
