"""analysis.json names the fold scheme beside every held-out number."""

import shutil

import yaml

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
