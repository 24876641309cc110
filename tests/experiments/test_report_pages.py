"""report.html and compare.html: contents, wide tables, KLs never negative, figures once, legible console tables."""

import base64
import json
import re
import shutil
import warnings

import numpy as np

from analysis.figures.canvas import drawable_text
from analysis.figures.labels import count, kl_shown
from experiments.cli import build_parser, main
from experiments.llm.report import plot_logit_grid
from experiments.report.compare import transfer_labels
from experiments.report.html import page, table
from experiments.report.lens import CAPTIONS as LENS_CAPTIONS
from experiments.report.lens import HEADER, site_rows, text_table
from experiments.runner import load_run_config, report_stage


def test_page_has_a_linked_table_of_contents_and_wide_tables_scroll():
    html = page("t", [("Summary", table([[1.0, None]], ["a", "b"])), ("Empty", ""), ("Figures", "<p>x</p>")])
    anchors = re.findall(r"<h2 id='([^']+)'>([^<]+)</h2>", html)
    assert [h for _, h in anchors] == ["Summary", "Figures"]
    for anchor, heading in anchors:
        assert f"<a href='#{anchor}'>{heading}</a>" in html
    assert html.index("<nav class='toc'>") < html.index("<h2")
    assert "<div class='wide'><table>" in html and re.search(r"div\.wide \{[^}]*overflow-x: auto", html)
    assert "<td>–</td>" in html and "None" not in html


def _lens_section():
    sites = ["embed", "blocks.0.resid_post", "ln_final"]
    return {
        "trained": {
            "sites": sites,
            "logit": {"kl_model": [0.7, 0.2, -1.1e-09]},
            "tuned": {"kl_model": [0.3, 0.1, -3e-10], "kl_bayes": [0.31, 0.11, -2e-9]},
            "shared": {"kl_model": [0.4, 0.15, 0.0]},
            "model": {"kl_bayes": 0.01},
        },
        "belief": {"r2": [0.5, 0.9, 0.998]},
    }


def test_negative_kl_rounding_noise_shows_as_zero_in_lens_tables():
    assert kl_shown(-1.1e-9) == 0.0 and kl_shown(0.25) == 0.25 and kl_shown(None) is None
    assert np.array_equal(kl_shown([-1e-9, 0.5]), [0.0, 0.5])
    rows = site_rows(_lens_section())
    last = rows[-1]
    assert last[0] == "ln_final" and last[1:5] == [0.0, 0.0, 0.0, 0.0] and last[-1] == 0.998


def test_console_lens_table_has_fixed_width_columns():
    lines = text_table(site_rows(_lens_section()), HEADER, indent="  ").splitlines()
    assert len(lines) == 4 and len({len(line) for line in lines}) == 1, lines
    # every column's right edge lines up: the belief R² column ends each line
    assert all(line.endswith(value) for line, value in zip(lines[1:], ("0.5", "0.9", "0.998")))


def test_report_shows_each_lens_figure_once_with_its_caption(tiny_run, tmp_path):
    run_dir = tmp_path / tiny_run.name
    shutil.copytree(tiny_run.run_dir, run_dir)
    report = json.loads((run_dir / "analysis.json").read_text())
    report["lenses"] = _lens_section()
    figure = (run_dir / report["figures"]["geometry"]).read_bytes() + b"lens"  # a PNG unlike any other here
    (run_dir / "figures" / "lens_kl.png").write_bytes(figure)
    report["figures"]["lens_kl"] = "figures/lens_kl.png"
    (run_dir / "analysis.json").write_text(json.dumps(report))
    html = report_stage(load_run_config(run_dir), run_dir, report).read_text()
    png = base64.b64encode((run_dir / "figures" / "lens_kl.png").read_bytes()).decode()
    assert html.count(png) == 1
    assert f"<figcaption>{LENS_CAPTIONS['lens_kl']}</figcaption>" in html.replace("&#x27;", "'")
    assert "<figcaption>lens kl</figcaption>" not in html


def test_tokens_the_font_cannot_draw_are_code_points_and_the_grid_warns_nothing(tmp_path):
    assert drawable_text("中文") == "\\u4e2d\\u6587" and drawable_text(" a\n") == " a\\n"
    assert drawable_text("abcdefghijkl", 4) == "abcd"
    grid = {
        "sites": ["0", "1"],
        "tokens": ["中", "b"],
        "logit": {"top1": [["文", "x"], ["y", "z"]], "prob": [[0.1, 0.9], [0.5, 0.2]]},
        "tuned": {"top1": [["語", "x"], ["y", "z"]], "prob": [[0.2, 0.8], [0.4, 0.3]]},
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plot_logit_grid(grid, tmp_path / "grid.png")
    assert not [w for w in caught if "Glyph" in str(w.message)], [str(w.message) for w in caught]
    assert (tmp_path / "grid.png").stat().st_size > 1000


def _llm_lenses(path, n_layers=30, every=5):
    sites = [f"layer {i}" for i in range(n_layers + 1)]
    layers = sorted(set(range(0, n_layers + 1, every)) | {n_layers})
    kl = list(np.linspace(4.0, 0.0, n_layers + 1))
    path.mkdir()
    (path / "lenses.json").write_text(
        json.dumps(
            {
                "sites": sites,
                "logit": {"kl_model": kl[:-1] + [-2e-9]},
                "tuned": {"kl_model": kl},
                "transfer": {
                    "layers": layers,
                    "sites": [sites[i] for i in layers],
                    "kl_model_penalty": np.ones((len(layers), len(layers))).tolist(),
                },
                "model": {
                    "name": "smollm2-135m",
                    "checkpoint": {
                        "file": "X.Q4_1.gguf",
                        "format": "gguf",
                        "quantisation": "MOSTLY_Q4_1",
                        "tensor_types": {"Q4_1": 3},
                    },
                },
            }
        )
    )
    return layers


def test_compare_labels_layers_names_units_and_the_checkpoint(tmp_path):
    layers = _llm_lenses(tmp_path / "llm")
    assert transfer_labels(json.loads((tmp_path / "llm" / "lenses.json").read_text())) == (
        [str(layer) for layer in layers],
        "layer",
    )
    assert layers[:3] == [0, 5, 10]
    assert transfer_labels({"sites": ["embed", "ln_final"], "transfer": {}}) == (["embed", "ln_final"], "site")
    assert main(["compare", str(tmp_path / "llm"), "--output-dir", str(tmp_path / "out")]) == 0
    html = (tmp_path / "out" / "compare.html").read_text()
    assert ">None<" not in html and "tuned KL at depth 0 (nats)" in html
    assert "X.Q4_1.gguf (GGUF MOSTLY_Q4_1; tensors 3 Q4_1)" in html


def test_one_quiet_flag_everywhere_and_singular_counts():
    parser = build_parser()
    for argv in (
        ["lens-llm", "--quiet"],
        ["lens-llm", "--no-progress"],
        ["analyze", "r", "--quiet"],
        ["lens", "r", "--quiet"],
        ["intervene", "r", "--quiet"],
        ["run", "smoke", "--quiet"],
    ):
        assert parser.parse_args(argv).quiet is True, argv
    help_text = parser._subparsers._group_actions[0].choices["lens-llm"].format_help()
    assert "--quiet" in help_text and "--no-progress" not in help_text
    assert count(1, "token") == "1 token" and count(2, "step") == "2 steps" and count(1000, "step") == "1,000 steps"
