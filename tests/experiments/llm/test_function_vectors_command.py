"""`belieflab function-vectors` end to end on a tiny random Llama directory with a word-level tokenizer: the run
directory, accuracies in range, and the zero-shot accuracy without the vector recomputed from the model."""

import json
import shlex

import numpy as np
import pytest

tokenizers = pytest.importorskip("tokenizers")
pytestmark = pytest.mark.slow  # a whole command run; the pieces are tested fast in tests/analysis/function_vectors

from analysis.function_vectors.prompts import TaskTokens, prompt_set
from analysis.function_vectors.tasks import DAYS, MONTHS, NUMBERS, task_pairs
from experiments.cli import main
from models.pretrained import load_pretrained
from tests.experiments.llm.test_lens_llm import _tiny_llama_dir


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    pytest.importorskip("wonderwords")
    base = tmp_path_factory.mktemp("fv")
    (base / "model").mkdir()
    model_dir = _tiny_llama_dir(base / "model")
    words = ["[UNK]", "Q", "A", ":", ",", *NUMBERS, *DAYS, *MONTHS]
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tok.save(str(model_dir / "tokenizer.json"))
    out = base / "run"
    assert (
        main(
            [
                "function-vectors",
                "--model",
                str(model_dir),
                "--tasks",
                "next_item,previous_item",
                "--shots",
                "3",
                "--mean-prompts",
                "4",
                "--effect-prompts",
                "2",
                "--zero-shot-prompts",
                "6",
                "--top",
                "2",
                "--random-vectors",
                "3",
                "--output-dir",
                str(out),
            ]
        )
        == 0
    )
    return model_dir, out


def test_run_directory_and_numbers(run):
    model_dir, out = run
    for name in (
        "function_vectors.json",
        "report.html",
        "figures/fv_accuracy_by_layer.png",
        "figures/head_effects.png",
    ):
        assert (out / name).is_file(), name
    result = json.loads((out / "function_vectors.json").read_text())
    assert result["model"]["checkpoint"]["format"] == "safetensors"
    task = result["tasks"]["next_item"]
    assert task["pairs"] == 28 and np.shape(task["cie"]) == (2, 4) and len(task["top_heads"]) == 2
    model, tokenizer = load_pretrained(model_dir)
    tokens = TaskTokens.encode(tokenizer, "next_item", task_pairs("next_item", []))
    zero, answers = prompt_set(tokens, 6, 0, seed=2)
    logits, _ = model(zero)
    assert task["accuracy"]["zero_shot"] == pytest.approx((np.asarray(logits)[:, -1].argmax(-1) == answers).mean())
    control = task["accuracy"]["zero_shot_random_at_best_layer"]
    assert len(control) == 3 and len(task["accuracy"]["zero_shot_random_by_layer"]) == 2
    assert all(a in np.arange(7) / 6 for a in control)  # accuracies over the 6 zero-shot prompts


def test_command_environment_and_page(run, tmp_path):
    """The recorded command parses back to the same settings; the results page shows the run's accuracies."""
    from experiments.cli import build_parser
    from experiments.results_page import render
    from tests.experiments.test_results_page import number, table_row

    model_dir, out = run
    result = json.loads((out / "function_vectors.json").read_text())
    args = build_parser().parse_args(shlex.split(result["command"])[1:])
    assert args.model == str(model_dir) and args.tasks == "next_item,previous_item" and args.output_dir == str(out)
    assert {k: getattr(args, k) for k in result["settings"] if k != "seed"} == {
        k: v for k, v in result["settings"].items() if k != "seed"
    }
    assert result["environment"]["cpu_count"] >= 1 and result["environment"]["load_average_1min_end"] >= 0
    page = render([out], tmp_path / "results" / "fv.md")
    for name, task in result["tasks"].items():
        cells = table_row(page, f"`{name}`")
        assert number(cells[4]) == pytest.approx(task["accuracy"]["zero_shot_fv_best"], abs=5e-5)
        assert number(cells[6].split(" / ")[0]) == pytest.approx(
            np.mean(task["accuracy"]["zero_shot_random_at_best_layer"]), abs=5e-5
        )


def test_unknown_task_is_a_one_line_error(run, capsys):
    model_dir, _ = run
    assert main(["function-vectors", "--model", str(model_dir), "--tasks", "spelling"]) == 2
    err = capsys.readouterr().err.strip()
    assert "spelling" in err and "\n" not in err
