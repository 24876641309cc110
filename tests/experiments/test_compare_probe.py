"""`belieflab compare` of a tiny toy run (the smoke config) beside a probe-llm run on a tiny random Llama: the
plotted and tabled numbers against both analysis.json files read here, and a one-line refusal across processes."""

import json
import shutil

import numpy as np
import pytest

from experiments.cli import main
from experiments.report.compare_beliefs import probe_belief_depth, toy_belief_depth

pytest.importorskip("safetensors.numpy", reason="needs the `llm` extra (safetensors)")
from tests.experiments.llm.test_lens_llm import _tiny_llama_dir  # noqa: E402

PROBE = ["--process", "mess3", "--sequences", "4", "--length", "10", "--symbols", "A", "B", "C", "--folds", "2"]
QUICK = ["--shuffles", "0", "--cv-shuffles", "0", "--tuned-steps", "0", "--quiet"]


@pytest.fixture(scope="module")
def probe_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("probe")
    (base / "model").mkdir()
    model_dir = _tiny_llama_dir(base / "model")
    assert main(["probe-llm", "--model", str(model_dir), *PROBE, *QUICK, "--output-dir", str(base / "llm")]) == 0
    return base / "llm"


def test_toy_and_llm_belief_depth_on_one_page(tiny_run, probe_run, tmp_path):
    toy_dir = tiny_run.run_dir
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


def test_a_probe_run_on_another_process_is_refused_in_one_line(tiny_run, probe_run, tmp_path, capsys):
    other = tmp_path / "other"
    shutil.copytree(probe_run, other, ignore=shutil.ignore_patterns(".belieflab.lock"))
    result = json.loads((other / "analysis.json").read_text())
    result["process"]["params"] = {**result["process"]["params"], "x": 0.2}
    (other / "analysis.json").write_text(json.dumps(result))
    assert main(["compare", str(tiny_run.run_dir), str(other), "--output-dir", str(tmp_path / "cmp")]) == 2
    err = capsys.readouterr().err.strip()
    assert "is on process mess3" in err and "one process" in err and "\n" not in err
