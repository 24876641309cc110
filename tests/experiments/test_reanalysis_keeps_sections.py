"""`belieflab analyze` keeps the sections it does not recompute; report.html shows no figure without its numbers."""

import base64
import json
import shutil

import pytest

from experiments.cli import main

INTERVENTION_FIGURES = ("interventions_patching", "interventions_steering_kl", "interventions_steering_beliefs")


def _embedded(page: str, path) -> bool:
    return base64.b64encode(path.read_bytes()).decode() in page


@pytest.fixture(scope="module")
def intervened(tiny_run, tmp_path_factory):
    """A copy of the tiny run, then `belieflab intervene` on it: analysis.json has an `interventions` section."""
    run_dir = tmp_path_factory.mktemp("intervened") / tiny_run.name
    shutil.copytree(tiny_run.run_dir, run_dir)
    assert (
        main(["intervene", str(run_dir), "--pairs", "60", "--carry-pairs", "0", "--steering-pairs", "30", "--quiet"])
        == 0
    )
    return run_dir


def test_analyze_after_intervene_keeps_the_interventions_and_their_figures(intervened, capsys):
    before = json.loads((intervened / "analysis.json").read_text())
    assert main(["analyze", str(intervened)]) == 0
    assert "kept from the earlier analysis.json (not recomputed here): interventions" in capsys.readouterr().err
    after = json.loads((intervened / "analysis.json").read_text())
    assert after["interventions"] == before["interventions"]
    page = (intervened / "report.html").read_text()
    for key in INTERVENTION_FIGURES:
        assert after["figures"][key] == before["figures"][key]
        assert _embedded(page, intervened / after["figures"][key]), key


def test_report_never_shows_a_figure_whose_numbers_are_gone(intervened):
    report = json.loads((intervened / "analysis.json").read_text())
    figures = [intervened / report["figures"][key] for key in INTERVENTION_FIGURES]
    del report["interventions"]
    (intervened / "analysis.json").write_text(json.dumps(report))
    assert main(["report", str(intervened)]) == 0
    page = (intervened / "report.html").read_text()
    assert all(path.is_file() for path in figures), "the files stay on disk"
    assert not any(_embedded(page, path) for path in figures)
    assert _embedded(page, intervened / report["figures"]["geometry"]), "figures with numbers stay"
