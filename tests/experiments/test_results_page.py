"""The results page against the run's own files, read here independently (json, numpy), not through the page code."""

import json
import shutil

import jax
import numpy as np
import pytest

from experiments.config import load_config
from experiments.results_page import main, render
from experiments.runner import run

OVERRIDES = [
    "analysis.shuffles=20",
    "analysis.cv_shuffles=10",
    "analysis.emergence=false",
    "lens.enabled=false",
    "ladder.fold_seeds=3",
]  # each differs from the shipped smoke config


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    config = load_config("smoke", OVERRIDES + [f"output_dir={out}"])
    run(config, progress=False)
    return config.run_dir


def table_row(page: str, label: str) -> list[str]:
    """The cells of the first Markdown table row whose first cell is `label`."""
    for line in page.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == label:
            return cells[1:]
    raise AssertionError(f"no row {label!r} in the page")


def number(cell: str) -> float:
    return float(cell.replace(",", "").replace("−", "-"))


def mean_and_sd(cell: str) -> tuple[float, float]:
    mean, sd = cell.split("±")
    return number(mean), number(sd)


def test_page_numbers_are_the_runs_numbers(smoke_run, tmp_path):
    report = json.loads((smoke_run / "analysis.json").read_text())
    out = tmp_path / "results" / "2026-01-01-smoke.md"
    page = render([smoke_run], out)

    for word in OVERRIDES + [f"--output-dir {smoke_run.parent}"]:
        assert word in page, word
    assert "belieflab run smoke " in page
    assert f"jax {jax.__version__}" in page
    load = report["environment"]["load_average_1min"]
    assert table_row(page, "load") == [f"1-minute load average {load:.2f} when the results were written"]

    loss = report["loss"]
    cells = table_row(page, f"`{smoke_run.name}`")  # first such row: the headline table
    head = report["headline"]["belief"]
    assert cells[0] == f"`{head['site']}`"
    assert number(cells[1]) == pytest.approx(head["r2"], abs=5e-4)
    assert number(cells[2]) == pytest.approx(head["cv_r2"], abs=5e-4)
    values = report["ladder"]["weightings"]["prob"]["network"][head["site"]]["cv"]["r2"]["values"]
    mean, sd = mean_and_sd(cells[3])
    assert mean == pytest.approx(np.mean(values), abs=5e-4)
    assert sd == pytest.approx(np.std(values, ddof=1), rel=0.05)

    training = [line for line in page.splitlines() if line.startswith(f"| `{smoke_run.name}` | {loss['step']} |")]
    assert len(training) == 1
    _, _, tokens, final, optimal, relative, _ = training[0].strip("|").split("|")[:7]
    assert number(tokens) == loss["step"] * 32 * 6  # smoke: batch 32, context 6
    assert number(relative) == pytest.approx(loss["relative"], abs=5e-6)
    assert number(optimal) == pytest.approx(loss["optimal"], abs=5e-6)
    assert number(final) / number(optimal) == pytest.approx(loss["relative"], abs=1e-4)

    for site, result in report["trained"].items():
        belief = result["targets"]["belief"]
        cells = table_row(page, f"`{site}`")
        assert number(cells[0]) == pytest.approx(belief["r2"], abs=5e-4)
        assert number(cells[3]) == pytest.approx(belief["cv"]["r2"], abs=5e-4)
        fold_mean, fold_sd = mean_and_sd(cells[4])
        assert fold_mean == pytest.approx(np.mean(belief["cv"]["r2_folds"]), abs=5e-4)
        assert fold_sd == pytest.approx(np.std(belief["cv"]["r2_folds"]), rel=0.05, abs=1e-6)
        assert number(cells[6]) == pytest.approx(report["untrained"][site]["targets"]["belief"]["r2"], abs=5e-4)

    assert "## Lenses" not in page  # the run has no lens section
    assert "## In-context loss" not in page and "## Interventions" not in page  # nor icl, interventions
    assert "## Regression onto the next-token distribution (`next_token`)" in page

    figure = out.parent.parent / "images" / f"{out.stem}-geometry.png"
    assert figure.read_bytes() == (smoke_run / report["figures"]["geometry"]).read_bytes()
    assert f"](../images/{figure.name})" in page


def test_several_runs_give_mean_and_sd(smoke_run, tmp_path):
    """A second run whose headline R² differs: the page's mean ± sd is numpy's over the two."""
    other = tmp_path / "seed=1"
    shutil.copytree(smoke_run, other)
    report = json.loads((other / "analysis.json").read_text())
    first = report["headline"]["belief"]["r2"]
    report["headline"]["belief"]["r2"] = second = first - 0.05
    (other / "analysis.json").write_text(json.dumps(report))
    page = render([smoke_run, other], tmp_path / "results" / "page.md")
    mean, sd = mean_and_sd(table_row(page, "mean ± sd over 2 runs")[1])
    assert mean == pytest.approx(np.mean([first, second]), abs=5e-4)
    assert sd == pytest.approx(np.std([first, second], ddof=1), rel=0.05)


def test_not_a_run_directory_is_one_line(tmp_path, capsys):
    assert main([str(tmp_path), "--out", str(tmp_path / "page.md")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no config.yaml" in err and str(tmp_path) in err


def test_lens_table_from_lenses_json(smoke_run, tmp_path):
    """A run directory with a `lenses.json` (as `belieflab lens-llm` writes): its per-site KL in the page."""
    run_dir = tmp_path / "lens-run"
    shutil.copytree(smoke_run, run_dir)
    sites = ["blocks.0.resid_pre", "blocks.1.resid_pre", "ln_final"]
    kl = {"logit": [12.5, 3.25, 0.0], "tuned": [4.5, 1.125, 0.0625]}
    lenses = {
        "schema": "belieflab.lens_llm/1",
        "units": "nats",
        "sites": sites,
        **{method: {"kl_model": values} for method, values in kl.items()},
    }
    (run_dir / "lenses.json").write_text(json.dumps(lenses))
    (run_dir / "analysis.json").unlink()
    (run_dir / "config.yaml").write_text("lens_llm: {model: smollm2-135m, tokens: 512, seed: 0}\n")
    page = render([run_dir], tmp_path / "results" / "lens.md")
    assert f"`belieflab lens-llm --tokens 512 --output-dir {run_dir}`" in page
    section = page.split("## Lenses")[1]
    for i, site in enumerate(sites):
        cells = next(line for line in section.splitlines() if line.startswith(f"| `{site}` |")).strip("|").split("|")
        assert [number(c) for c in cells[1:3]] == pytest.approx([kl["logit"][i], kl["tuned"][i]], abs=5e-5)
    assert "KL(model ‖ shared)" not in section


def test_every_analysis_json_key_is_documented(smoke_run):
    """Every key a run writes (top level and one level down in its big sections) has a row in the schema table."""
    from experiments.reference_schemas import ANALYSIS_JSON

    report = json.loads((smoke_run / "analysis.json").read_text())
    documented = {key for key, _ in ANALYSIS_JSON}
    text = " ".join(meaning for _, meaning in ANALYSIS_JSON)
    assert set(report) <= documented, set(report) - documented
    assert "ladder" in report
    for section in [s for s in ("ladder", "training", "lenses") if s in report]:
        for key in report[section]:
            assert f"{section}.{key}" in documented or key in text, f"{section}.{key}"
    for key in report["trained"][report["headline"]["belief"]["site"]]["targets"]["belief"]:
        assert f"trained.<group>.targets.<target>.{key}" in documented, key
