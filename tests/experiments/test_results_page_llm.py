"""Results pages of the LLM commands: a function-vectors run written by hand with known numbers, a tiny probe-llm
run made here; the page's numbers are read back from its Markdown and compared with the JSON (numpy for the means)."""

import json
import shlex

import numpy as np
import pytest

from experiments.cli import build_parser
from experiments.cli import main as cli_main
from experiments.llm.probe import ProbeSettings
from experiments.results_page import main, render
from tests.experiments.llm.test_lens_llm import _tiny_llama_dir
from tests.experiments.test_results_page import number, table_row

FV_TASKS = {
    "next_item": {
        "pairs": 28,
        "accuracy": {
            "icl": 0.65,
            "shuffled": 0.05,
            "zero_shot": 0.025,
            "zero_shot_fv_by_layer": [0.0, 0.5, 0.85],
            "zero_shot_fv_best": 0.85,
            "best_layer": 2,
            "zero_shot_random_by_layer": [0.0, 0.0, 0.0125],
            "zero_shot_random_at_best_layer": [0.0, 0.05, 0.025, 0.1],
        },
        "top_heads": [[2, 1], [0, 3], [1, 0]],
        "top_heads_cie": [0.2437, 0.0146, 0.0031],
        "fv_norm": 118.79,
        "seconds": 12.5,
    },
    "capitalize": {
        "pairs": 165,
        "accuracy": {
            "icl": 0.95,
            "shuffled": 0.0,
            "zero_shot": 0.0,
            "zero_shot_fv_by_layer": [0.075, 0.25, 0.125],
            "zero_shot_fv_best": 0.25,
            "best_layer": 1,
            "zero_shot_random_by_layer": [0.0, 0.00625, 0.0],
            "zero_shot_random_at_best_layer": [0.0, 0.0, 0.0, 0.025],
        },
        "top_heads": [[1, 2]],
        "top_heads_cie": [0.5],
        "fv_norm": 97.2,
        "seconds": 7.0,
    },
}


def fv_run(tmp_path, **extra):
    run_dir = tmp_path / "fv"
    run_dir.mkdir()
    result = {
        "schema": "belieflab.function_vectors/1",
        "settings": {"shots": 10, "zero_shot_prompts": 40, "random_vectors": 4, "seed": 0},
        "model": {"name": "Tiny", "checkpoint": None, "n_layers": 3, "n_heads": 4},
        "words": {"source": "a list", "count": 12},
        "tasks": FV_TASKS,
        "seconds": 20.25,
        **extra,
    }
    (run_dir / "function_vectors.json").write_text(json.dumps(result))
    return run_dir


def test_function_vectors_page_shows_the_jsons_numbers(tmp_path):
    page = render([fv_run(tmp_path)], tmp_path / "results" / "fv.md")
    for row in ("machine", "load", "versions"):
        assert "not recorded" in table_row(page, row)[0], row
    assert "not recorded in the run directory" in table_row(page, "command")[0]
    layers = page.split("## Zero-shot accuracy with the vector")[1]
    for name, task in FV_TASKS.items():
        a = task["accuracy"]
        cells = table_row(page, f"`{name}`")
        assert number(cells[0]) == task["pairs"]
        shown = [number(c) for c in cells[1:5]]
        assert shown == pytest.approx([a["icl"], a["shuffled"], a["zero_shot"], a["zero_shot_fv_best"]], abs=5e-5)
        assert number(cells[5]) == a["best_layer"]
        mean, rest = cells[6].split(" / ")
        control = a["zero_shot_random_at_best_layer"]
        assert number(mean) == pytest.approx(np.mean(control), abs=5e-5)
        assert number(rest.split(" (")[0]) == pytest.approx(max(control), abs=5e-5)
        assert rest.endswith(f"({len(control)})")
        layer, head = task["top_heads"][0]
        assert cells[8].startswith(f"L{layer}.H{head} ({task['top_heads_cie'][0]:.3f})")
        column = list(FV_TASKS).index(name) + 1
        for i, value in enumerate(a["zero_shot_fv_by_layer"]):
            assert number(table_row(layers, str(i))[column - 1]) == pytest.approx(value, abs=5e-5)
    assert "| 10-shot |" in page


def test_function_vectors_page_with_environment_and_an_unknown_section(tmp_path):
    env = {"python": "3.11.7", "jax": "0.1", "cpu": "X", "cpu_count": 2, "backend": "cpu", "devices": ["cpu:cpu"]}
    env |= {"load_average_1min": 3.25, "load_average_1min_end": 4.5}
    command = "belieflab function-vectors --model m --shots 10 --output-dir runs/fv"
    extra = {"steering": {"alpha": [0.5, 1.0], "gain": {"next_item": 0.125}}}
    page = render([fv_run(tmp_path, environment=env, command=command, **extra)], tmp_path / "results" / "fv.md")
    assert table_row(page, "load") == ["1-minute load average 3.25 at the start, 4.50 at the end"]
    assert table_row(page, "command") == [f"`{command}`"]
    assert "2 cores; JAX backend cpu (cpu:cpu)" in table_row(page, "machine")[0]
    assert "## `steering`" in page
    assert number(table_row(page, "`steering.gain.next_item`")[0]) == pytest.approx(0.125, abs=5e-5)
    assert table_row(page, "`steering.alpha`") == ["0.5000, 1.0000"]


@pytest.fixture(scope="module")
def probe_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("probe_page")
    (base / "model").mkdir()
    model_dir = _tiny_llama_dir(base / "model")
    args = ["--sequences", "4", "--length", "10", "--symbols", "A", "B", "C", "--folds", "2", "--shuffles", "3"]
    args += ["--cv-shuffles", "2", "--tuned-steps", "2", "--param", "x=0.1", "--patching", "--quiet"]
    assert cli_main(["probe-llm", "--model", str(model_dir), *args, "--output-dir", str(base / "run")]) == 0
    return base / "run"


def test_probe_llm_records_what_reruns_it(probe_run):
    result = json.loads((probe_run / "analysis.json").read_text())
    words = shlex.split(result["command"])
    assert words[:2] == ["belieflab", "probe-llm"]
    args = build_parser().parse_args(words[1:])
    given = {k: v for k, v in vars(args).items() if k not in ("func", "output_dir", "quiet", "command", "param")}
    given = {k: tuple(v) if isinstance(v, list) else v for k, v in given.items()}
    rerun = ProbeSettings(**given, params={"x": 0.1})
    assert {**vars(rerun), "symbols": list(rerun.symbols), "ngram_orders": list(rerun.ngram_orders)} == {
        **result["settings"],
        "params": {"x": 0.1},
    }
    assert args.param == ["x=0.1"] and args.output_dir == str(probe_run)
    env = result["environment"]
    assert env["cpu_count"] >= 1 and env["load_average_1min"] >= 0 and env["load_average_1min_end"] >= 0
    assert result["wall_seconds"] >= sum(result["seconds"].values()) > 0


def test_probe_llm_page_shows_the_jsons_numbers(probe_run, tmp_path):
    result = json.loads((probe_run / "analysis.json").read_text())
    result["steering"] = {"layers": [3], "closed": [0.75]}  # a section this page has no table for
    (probe_run / "analysis.json").write_text(json.dumps(result))
    out = tmp_path / "results" / "probe.md"
    page = render([probe_run], out)
    assert table_row(page, "command") == [f"`{result['command']}`"]
    env = result["environment"]
    assert table_row(page, "load") == [
        f"1-minute load average {env['load_average_1min']:.2f} at the start, {env['load_average_1min_end']:.2f} "
        "at the end"
    ]
    for name, kl in result["in_context"]["kl_last"].items():
        cells = table_row(page, f"`{name}`")
        assert [number(c) for c in cells] == pytest.approx(
            [kl, result["in_context"]["kl_last_quarter"][name]], abs=5e-5
        )
    best = result["summary"]["best_site"]
    for site, fit in result["regression"]["trained"].items():
        cells = table_row(page, f"`{site}`" + (" (best)" if site == best else ""))
        assert number(cells[0]) == pytest.approx(fit["metrics"]["r2"], abs=5e-4)
        assert number(cells[2]) == pytest.approx(fit["cv"]["r2"], abs=5e-4)
        assert number(cells[3]) == pytest.approx(fit["cv_shuffle"]["q99"], abs=5e-4)
        assert number(cells[4]) == pytest.approx(result["regression"]["permuted"][site]["cv"]["r2"], abs=5e-4)
    for entry in result["baselines"]["token_history"]["linear"]:
        assert number(table_row(page, str(entry["k"]))[0]) == pytest.approx(entry["cv_r2"], abs=5e-4)
    lenses = page.split("## Lenses against Bayes")[1].split("##")[0]
    for layer in result["lenses"]["layers"]:
        cells = table_row(lenses, str(layer))
        assert number(cells[0]) == pytest.approx(result["lenses"]["logit"]["kl_bayes"][layer], abs=5e-5)
    patching = page.split("## Activation patching")[1]
    far = result["patching"]["modes"]["last"]["far"]
    assert [number(table_row(patching, str(i))[3]) for i in range(len(far))] == pytest.approx(far, abs=5e-4)
    assert number(table_row(page, "`steering.closed`")[0]) == pytest.approx(0.75)
    assert (out.parent.parent / "images" / "probe-in_context_kl.png").is_file()


def test_a_directory_of_no_known_kind_is_one_line(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("x")
    assert main([str(tmp_path), "--out", str(tmp_path / "page.md")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(tmp_path) in err and "no function_vectors.json" in err


def test_runs_of_two_kinds_are_refused_in_one_line(probe_run, tmp_path, capsys):
    assert main([str(probe_run), str(fv_run(tmp_path)), "--out", str(tmp_path / "page.md")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "one kind of run per page" in err
