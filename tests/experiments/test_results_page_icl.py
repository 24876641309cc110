"""The results page of a tiny mixture run (in-context targets, the icl stage, patching, steering and prior-shift
steering) against the run's analysis.json, read here with json and numpy, not through the page code."""

import json
import shutil

import numpy as np
import pytest

import hmm
from experiments.results_page import render
from tests.experiments.test_results_page import mean_and_sd, number


@pytest.fixture(scope="module")
def mixture_run(mixture_run_once):
    """The shared tiny mixture run (`tests/experiments/conftest.py`), read only: tests that change it copy it."""
    return mixture_run_once.run_dir


@pytest.fixture(scope="module")
def page_and_report(mixture_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("docs") / "results" / "2026-01-01-mixture.md"
    return render([mixture_run], out), json.loads((mixture_run / "analysis.json").read_text())


def section(page: str, heading: str) -> str:
    """The page's text from the heading that starts with `heading` to the next heading."""
    start = page.index("\n" + heading)
    end = page.find("\n#", start + 1)
    return page[start : end if end > 0 else len(page)]


def rows(text: str) -> dict:
    """`{first cell: [other cells]}` of the Markdown table rows in `text` (header and rule excluded)."""
    out = {}
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            out.setdefault(cells[0], cells[1:])
    return out


TARGET_HEADINGS = {
    "belief": "## Belief regression onto the belief state",
    "next_token": "## Regression onto the next-token distribution",
    "component": "## Regression onto the component posterior",
}


def test_every_target_gets_its_table_with_its_controls(page_and_report):
    page, report = page_and_report
    mixture = hmm.mixture([hmm.get_process("mess3"), hmm.get_process("mess3", x=0.15, alpha=0.6)], [0.4, 0.6])
    assert page.startswith(f"# smoke: {hmm.display_name(mixture)} (")  # the title names both components
    targets = report["trained"]["ln_final"]["targets"]
    assert set(targets) == set(TARGET_HEADINGS)
    assert page.index(TARGET_HEADINGS["belief"]) < page.index(TARGET_HEADINGS["next_token"])
    for target, heading in TARGET_HEADINGS.items():
        table = rows(section(page, heading))
        assert {f"`{site}`" for site in report["trained"]} <= set(table)
        for site, group in report["trained"].items():
            fit, control = group["targets"][target], report["untrained"][site]["targets"][target]
            cells = table[f"`{site}`"]
            assert number(cells[0]) == pytest.approx(fit["r2"], abs=5e-4)
            assert [number(c) for c in cells[1].split("/")] == pytest.approx(
                [fit["shuffle"]["mean"], fit["shuffle"]["q99"]], abs=5e-4
            )
            assert number(cells[3]) == pytest.approx(fit["cv"]["r2"], abs=5e-4)
            fold_mean, fold_sd = mean_and_sd(cells[4])
            assert fold_mean == pytest.approx(np.mean(fit["cv"]["r2_folds"]), abs=5e-4)
            assert fold_sd == pytest.approx(np.std(fit["cv"]["r2_folds"]), rel=0.05, abs=1e-6)
            assert number(cells[5]) == pytest.approx(fit["cv"]["shuffle"]["q99"], abs=5e-4)
            assert number(cells[6]) == pytest.approx(control["r2"], abs=5e-4)
            assert number(cells[7]) == pytest.approx(control["cv"]["r2"], abs=5e-4)

    history = report["ladder"]["weightings"]["prob"]["icl_targets"]["component"]
    [cells] = [c for k, c in rows(section(page, TARGET_HEADINGS["component"])).items() if k.startswith("`smoke")]
    for cell, best in zip(cells[1:], (history["best_linear"], history["best_lookup"])):
        value, k = cell.split("(k =")
        assert number(value) == pytest.approx(best["cv_r2"], abs=5e-4) and int(k.strip(" )")) == best["k"]


def test_icl_loss_at_powers_of_two_and_the_last_position(page_and_report):
    page, report = page_and_report
    icl = report["icl"]
    text = section(page, "## In-context loss by position")
    table = rows(text)
    names = list(icl["curves"])
    assert names[0] == "model" and "pool" in names
    positions = icl["positions"]
    shown = [p for p in positions if p in (1, 2, 4, 8, 16, 32)] + [positions[-1]]
    assert [k for k in table if k[0].isdigit()] == [str(p) for p in dict.fromkeys(shown)]
    for p in shown:
        cells = table[str(p)]
        i = positions.index(p)
        expected = [icl["curves"][n][i] for n in names] + [icl["kl_to_bayes"][i]]
        assert [number(c) for c in cells] == pytest.approx(expected, abs=5e-5)
    means = [float(np.mean(icl["curves"][n])) for n in names] + [float(np.mean(icl["kl_to_bayes"]))]
    assert [number(c) for c in table["mean over positions"]] == pytest.approx(means, abs=5e-5)
    gap = 100 * (icl["curves"]["model"][-1] / icl["curves"]["pool"][-1] - 1)
    assert f"{gap:+.3f}% against" in text

    head = report["headline"]["component"]
    history = report["ladder"]["weightings"]["prob"]["icl_targets"]["component"]
    cells = rows(section(page, "## In-context targets"))["`component`"]
    assert cells[0] == f"`{head['site']}`"
    expected = [head["r2"], head["cv_r2"], head["cv_null_q99"], head["untrained_r2"]]
    assert [number(c) for c in cells[1:5]] == pytest.approx(expected, abs=5e-5)
    for cell, best in zip(cells[5:], (history["best_linear"], history["best_lookup"])):
        assert cell == f"{best['cv_r2']:.4f} (k={best['k']})"


def test_patching_steering_and_prior_shift_tables(page_and_report):
    page, report = page_and_report
    section_ = report["interventions"]
    patch = rows(section(page, "### Activation patching"))
    for mode_index, mode in enumerate(section_["patching"]["modes"]):
        for site in section_["patching"]["sites"]:
            closed = section_["patching"]["closed"][mode][site]
            assert number(patch[f"`{site}`"][mode_index]) == pytest.approx(closed, abs=5e-5)
    steer = rows(section(page, "### Belief steering"))
    for site in section_["steering"]["sites"]:
        r = section_["steering"]["per_site"][site]
        expected = [r["decoder_r2"], r["kl_before_nats"], r["kl_belief_nats"], r["kl_random_nats"]]
        assert [number(c) for c in steer[f"`{site}`"][:4]] == pytest.approx(expected, abs=5e-5)

    note = section_["carry_forward"].get("note")
    assert (note in section(page, "## Interventions")) if note else "carried forward" not in page
    text = section(page, "### Prior-shift steering")
    lines = [line for line in text.splitlines() if line.startswith("| `ln_final` |")]
    results = section_["prior_shift"]["results"]
    assert len(lines) == len(results) == 2
    for line, result in zip(lines, results):
        cells = [c.strip() for c in line.strip().strip("|").split("|")][1:]
        moved = result["delta"][0]
        assert cells[0] == f"{moved:+.4g} on component 0"
        expected = [result["decoder_r2"], np.mean(result["bayes_kl_shift_vs_base_nats"])]
        for condition in ("none", "steered", "random", "encoder", "random_encoder"):
            curves = result["per_position"][condition]
            expected += [np.mean(curves["kl_shifted_nats"]), np.mean(curves["kl_base_nats"])]
        assert [number(c) for c in cells[1:-1]] == pytest.approx(expected, abs=5e-5)
        steered = result["per_position"]["steered"]
        closer = np.all(np.array(steered["kl_shifted_nats"]) < np.array(steered["kl_base_nats"]))
        assert cells[-1] == ("yes" if closer else "no")


def test_a_run_without_the_belief_target_opens_with_the_next_one(mixture_run, tmp_path):
    """As for a source without finite states (targets `transition`, `next_token`): the first table present
    carries the settings paragraph, and no empty belief table is printed."""
    other = tmp_path / "no-belief"
    shutil.copytree(mixture_run, other, ignore=shutil.ignore_patterns("checkpoints"))
    report = json.loads((other / "analysis.json").read_text())
    for part in ("trained", "untrained"):
        for group in report[part].values():
            del group["targets"]["belief"]
    report["targets"].remove("belief")
    del report["headline"]["belief"]
    (other / "analysis.json").write_text(json.dumps(report))
    page = render([other], tmp_path / "results" / "page.md")
    assert "Belief regression" not in page and "## Headline" not in page
    assert "effective sample size" in section(page, TARGET_HEADINGS["next_token"])


def test_two_runs_give_mean_and_sd_per_target(mixture_run, tmp_path):
    other = tmp_path / "seed=1"
    shutil.copytree(mixture_run, other, ignore=shutil.ignore_patterns("checkpoints"))
    report = json.loads((other / "analysis.json").read_text())
    fit = report["trained"]["ln_final"]["targets"]["component"]
    first = fit["r2"]
    fit["r2"] = second = first - 0.1
    (other / "analysis.json").write_text(json.dumps(report))
    page = render([mixture_run, other], tmp_path / "results" / "page.md")
    mean, sd = mean_and_sd(rows(section(page, TARGET_HEADINGS["component"]))["`ln_final`"][0])
    assert mean == pytest.approx(np.mean([first, second]), abs=5e-4)
    assert sd == pytest.approx(np.std([first, second], ddof=1), rel=0.05)
    assert page.count("## In-context loss by position") == 2
