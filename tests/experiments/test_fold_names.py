"""analysis.json names the fold scheme beside every held-out number."""

import shutil

import numpy as np
import pytest
import yaml

from analysis.ladder.heldout_summary import seed_summary
from analysis.regression.measure import TargetResult
from experiments.runner import reanalyze


def _walk(obj, path=""):
    """Every (path, dict) in a nested dict."""
    if isinstance(obj, dict):
        yield path, obj
        for key, value in obj.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _walk(value, f"{path}[{i}]")


def test_summaries_name_their_folds_and_keep_their_numbers():
    y = np.array([[0.0], [1.0], [2.0], [3.0]])
    yhat = np.array([[0.0], [1.0], [2.0], [2.0]])  # weighted R² by hand: 1 - 1 / 5 = 0.8
    summary = seed_summary(y, [yhat, yhat], np.ones(4), folds="leave_belief_state_out")
    assert summary["folds"] == summary["r2"]["folds"] == "leave_belief_state_out"
    assert summary["r2"]["mean"] == pytest.approx(0.8) and summary["r2"]["sd"] == 0.0
    assert seed_summary(y, [yhat], np.ones(4))["folds"] == "stratified_by_belief"
    cv = TargetResult({"r2": 0.9}, np.zeros((4, 1)), cv={"r2": 0.8}).to_dict()["cv"]
    assert cv["folds"] == "random" and cv["r2"] == 0.8


@pytest.mark.slow
def test_every_cross_validation_names_its_folds(tiny_run, tmp_path):
    run_dir = tmp_path / tiny_run.name
    shutil.copytree(tiny_run.run_dir, run_dir, ignore=shutil.ignore_patterns(".belieflab.lock"))
    values = yaml.safe_load((run_dir / "config.yaml").read_text())
    values["ladder"].update(enabled=True, fold_seeds=2, max_k=2, weightings=["prob"], pairs=False)
    (run_dir / "config.yaml").write_text(yaml.safe_dump(values))
    report = reanalyze(run_dir, progress=False).analysis
    cvs = [(p, d) for p, d in _walk(report["trained"]) if p.endswith(".cv") and d]
    assert cvs and all(d["folds"] == "random" for _, d in cvs)
    ladder = report["ladder"]["weightings"]["prob"]
    for group, net in ladder["network"].items():
        assert net["cv"]["folds"] == net["cv"]["r2"]["folds"] == "stratified_by_belief", group
        if "leave_belief_state_out" in net:
            assert net["leave_belief_state_out"]["folds"] == "leave_belief_state_out"
    for kind in ("linear", "lookup"):
        assert all(b["cv"]["folds"] == "stratified_by_belief" for b in ladder["token_history"][kind])
    assert all(c["folds"] == "random" for c in report["ladder"]["controls"].values())
    page = (run_dir / "report.html").read_text()
    assert "held-out R² (random k-fold CV" in page and "folds stratified by belief, mean ± sd over fold seeds" in page
    assert "the same site can show two held-out R² that differ" in page
    assert "last 1 token + position" in page and "last 1 tokens" not in page
