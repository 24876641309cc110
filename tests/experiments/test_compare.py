"""`belieflab compare`: depth normalisation by hand, both kinds of run directory, one-line errors."""

import json

import numpy as np
import pytest

from experiments.cli import main
from experiments.report.compare import depth_curves, load_lens_section, write_compare


def _section(n_sites, scale):
    kl = [scale * (n_sites - 1 - i) for i in range(n_sites)]
    return {
        "sites": [f"s{i}" for i in range(n_sites)],
        "logit": {"kl_model": kl},
        "tuned": {"kl_model": [v / 2 for v in kl]},
        "transfer": {"kl_model_penalty": np.abs(np.subtract.outer(range(3), range(3))).tolist()},
    }


def test_depth_axis_and_kl_fraction_by_hand():
    curves = depth_curves(_section(5, 2.0))  # logit KL 8, 6, 4, 2, 0; tuned half of it
    depth, frac = curves["logit"]
    np.testing.assert_allclose(depth, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(frac, [1, 0.75, 0.5, 0.25, 0])
    np.testing.assert_allclose(curves["tuned"][1], [0.5, 0.375, 0.25, 0.125, 0])
    assert "shared" not in curves


def test_toy_and_llm_runs_on_one_page(tmp_path):
    toy, llm = tmp_path / "toy", tmp_path / "llm"
    toy.mkdir(), llm.mkdir()
    (toy / "analysis.json").write_text(
        json.dumps({"lenses": {"trained": _section(9, 0.1), "untrained": _section(9, 9.0)}})
    )
    (llm / "lenses.json").write_text(json.dumps(_section(31, 1.0)))
    assert load_lens_section(toy)["sites"][-1] == "s8"
    assert load_lens_section(toy)["logit"]["kl_model"][0] == pytest.approx(0.8)  # the trained model's section
    out = write_compare([toy, llm], tmp_path / "cmp")
    text = out.read_text()
    assert "toy" in text and "llm" in text and "Future Lens" in text and text.count("<img") == 2
    assert main(["compare", str(toy), str(llm), "--output-dir", str(tmp_path / "cli")]) == 0


def test_runs_without_lenses_are_one_line_errors(tmp_path, capsys):
    (tmp_path / "analysis.json").write_text(json.dumps({"regression": {}}))
    assert main(["compare", str(tmp_path)]) == 2
    assert "has no lens results" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "missing")]) == 2


def test_a_damaged_lens_file_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "lenses.json").write_text('{"sites": [')
    assert main(["compare", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "is not valid JSON" in err and "\n" not in err
