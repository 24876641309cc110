"""`belieflab compare` of a tiny toy run (the smoke config, lenses added by `belieflab lens`) beside a probe-llm run
on a tiny random Llama: the plotted and tabled numbers (belief R² and lens KL to Bayes by relative depth) against
both analysis.json files read here, and one-line refusals across processes and of runs without lens results."""

import json
import shutil

import numpy as np
import pytest

from experiments.cli import main
from experiments.report.compare_beliefs import probe_belief_depth, toy_belief_depth
from experiments.report.compare_lens_bayes import lens_bayes_depth

pytest.importorskip("safetensors.numpy", reason="needs the `llm` extra (safetensors)")
from tests.experiments.llm.test_lens_llm import _tiny_llama_dir  # noqa: E402

PROBE = ["--process", "mess3", "--sequences", "4", "--length", "10", "--symbols", "A", "B", "C", "--folds", "2"]
QUICK = ["--shuffles", "0", "--cv-shuffles", "0", "--tuned-steps", "0", "--quiet"]


LENS = ["tuned=false", "shared=false", "transfer=false", "belief=false", "future=false", "untrained_control=false"]


@pytest.fixture(scope="module")
def toy_with_lenses(tiny_run, tmp_path_factory):
    """A copy of the tiny run with the logit lens added (`belieflab lens`)."""
    run = tmp_path_factory.mktemp("toy") / "toy"
    shutil.copytree(tiny_run.run_dir, run, ignore=shutil.ignore_patterns(".belieflab.lock"))
    sets = [arg for item in LENS + ["figures=false"] for arg in ("--set", f"lens.{item}")]
    assert main(["lens", str(run), *sets, "--quiet"]) == 0
    return run


@pytest.fixture(scope="module")
def probe_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("probe")
    (base / "model").mkdir()
    model_dir = _tiny_llama_dir(base / "model")
    assert main(["probe-llm", "--model", str(model_dir), *PROBE, *QUICK, "--output-dir", str(base / "llm")]) == 0
    return base / "llm"


def test_toy_and_llm_belief_depth_on_one_page(toy_with_lenses, probe_run, tmp_path):
    toy_dir = toy_with_lenses
    toy = json.loads((toy_dir / "analysis.json").read_text())
    probe = json.loads((probe_run / "analysis.json").read_text())
    toy_sites = [g for g, members in toy["groups"].items() if members == [g]]
    toy_r2 = [toy["trained"][s]["targets"]["belief"]["cv"]["r2"] for s in toy_sites]
    llm_sites = probe["regression"]["sites"]
    llm_r2 = [probe["regression"]["trained"][s]["cv"]["r2"] for s in llm_sites]
    assert len(toy_sites) >= 2 and len(llm_sites) == 3  # two layers' inputs and the final residual

    sites, depth, r2 = toy_belief_depth(toy)  # what the figure plots
    assert sites == toy_sites
    np.testing.assert_allclose(depth, [i / (len(toy_sites) - 1) for i in range(len(toy_sites))])
    np.testing.assert_allclose(r2, toy_r2)
    sites, depth, r2 = probe_belief_depth(probe)
    assert sites == llm_sites
    np.testing.assert_allclose(depth, [0, 0.5, 1])
    np.testing.assert_allclose(r2, llm_r2)

    out = tmp_path / "cmp"
    assert main(["compare", str(toy_dir), str(probe_run), "--output-dir", str(out)]) == 0
    page = (out / "compare.html").read_text()
    assert (out / "figures" / "compare_belief_depth.png").is_file()
    for i, (site, value) in enumerate(zip(toy_sites, toy_r2)):
        row = f"<td>{toy_dir.name}</td><td>toy</td><td>{site}</td><td>{i / (len(toy_sites) - 1):.3f}</td>"
        assert row + f"<td>{value:.4f}</td>" in page
    for site, d, value in zip(llm_sites, ("0.000", "0.500", "1.000"), llm_r2):
        assert f"<td>llm</td><td>LLM</td><td>{site}</td><td>{d}</td><td>{value:.4f}</td>" in page
    for t, kl in enumerate(probe["in_context"]["kl_to_bayes"]["model"]):
        assert f"<td>llm</td><td>{t + 1}</td><td>{kl:.4f}</td>" in page


def test_lens_kl_to_bayes_by_relative_depth(toy_with_lenses, probe_run, tmp_path):
    toy = json.loads((toy_with_lenses / "analysis.json").read_text())["lenses"]["trained"]
    probe = json.loads((probe_run / "analysis.json").read_text())["lenses"]
    # the toy's smoke model has one block: embed and its input at depth 0, mid-block 1/2, its output 1
    assert toy["sites"] == ["embed", "blocks.0.resid_pre", "blocks.0.resid_mid", "blocks.0.resid_post"]
    sites, depth, kl = lens_bayes_depth(toy)["logit"]
    np.testing.assert_allclose(depth, [0, 0, 0.5, 1])
    np.testing.assert_allclose(kl, np.maximum(toy["logit"]["kl_bayes"], 0))
    # the LLM (two blocks): each block's input and the final residual, also at 0, 1/2, 1
    sites_llm, depth_llm, kl_llm = lens_bayes_depth(probe)["logit"]
    assert sites_llm == ["blocks.0.resid_pre", "blocks.1.resid_pre", "blocks.1.resid_post"]
    np.testing.assert_allclose(depth_llm, [0, 0.5, 1])
    np.testing.assert_allclose(kl_llm, np.maximum(probe["logit"]["kl_bayes"], 0))

    out = tmp_path / "cmp"
    assert main(["compare", str(toy_with_lenses), str(probe_run), "--output-dir", str(out)]) == 0
    page = (out / "compare.html").read_text()
    assert (out / "figures" / "compare_lens_bayes_depth.png").is_file()
    assert "KL(Bayes ‖ lens), nats" in page
    for run, kind, names, values in (
        (toy_with_lenses.name, "toy", sites, toy["logit"]["kl_bayes"]),
        ("llm", "LLM", sites_llm, probe["logit"]["kl_bayes"]),
    ):
        shown = ("0.000", "0.000", "0.500", "1.000")[-len(names) :]
        for site, d, value in zip(names, shown, values):
            row = f"<td>{run}</td><td>{kind}</td><td>logit</td><td>{site}</td><td>{d}</td><td>{max(value, 0):.4f}</td>"
            assert row in page
    own = probe["model"]["kl_bayes"]
    assert f"<td>llm</td><td>LLM</td><td>model output</td><td>-</td><td>1.000</td><td>{max(own, 0):.4f}</td>" in page


def test_runs_without_lens_results_are_refused_in_one_line(tiny_run, toy_with_lenses, probe_run, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", str(tiny_run.run_dir), str(probe_run), "--output-dir", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert f"toy run {tiny_run.run_dir.name} has no lens results" in err and "belieflab lens" in err
    assert "\n" not in err and not (out / "compare.html").exists()
    other = tmp_path / "no_lenses"
    shutil.copytree(probe_run, other, ignore=shutil.ignore_patterns(".belieflab.lock"))
    result = json.loads((other / "analysis.json").read_text())
    del result["lenses"]
    (other / "analysis.json").write_text(json.dumps(result))
    assert main(["compare", str(toy_with_lenses), str(other), "--output-dir", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "probe-llm run no_lenses has no lenses against Bayes" in err and "\n" not in err


def test_a_probe_run_on_another_process_is_refused_in_one_line(toy_with_lenses, probe_run, tmp_path, capsys):
    other = tmp_path / "other"
    shutil.copytree(probe_run, other, ignore=shutil.ignore_patterns(".belieflab.lock"))
    result = json.loads((other / "analysis.json").read_text())
    result["process"]["params"] = {**result["process"]["params"], "x": 0.2}
    (other / "analysis.json").write_text(json.dumps(result))
    assert main(["compare", str(toy_with_lenses), str(other), "--output-dir", str(tmp_path / "cmp")]) == 2
    err = capsys.readouterr().err.strip()
    assert "is on process mess3" in err and "one process" in err and "\n" not in err
