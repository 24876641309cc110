"""The belieflab command line: the process summary, its figure, and one-line errors."""

import json

from experiments.cli import main


def test_process_summary_and_plot(tmp_path, capsys):
    figure = tmp_path / "rrxor.png"
    assert main(["process", "rrxor", "--max-len", "10", "--plot", str(figure)]) == 0
    out = capsys.readouterr().out
    assert "36 distinct beliefs" in out
    assert "finite, 5 recurrent states" in out and "(0.6667 bits)" in out
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_process_parameters_and_files(tmp_path, capsys):
    assert main(["process", "mess3", "--param", "x=0.15", "--param", "alpha=0.6", "--max-len", "3"]) == 0
    assert "mess3(alpha=0.6, x=0.15)" in capsys.readouterr().out
    path = tmp_path / "golden.json"
    path.write_text(json.dumps({"transition_matrices": [[[0.5, 0], [1, 0]], [[0, 0.5], [0, 0]]]}))
    assert main(["process", str(path), "--max-len", "3"]) == 0
    assert "stationary pi: [0.6667 0.3333]" in capsys.readouterr().out


def test_process_errors_are_one_line(capsys):
    assert main(["process", "mess3", "--param", "x=0.9"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("belieflab: error: mess3: parameter x=0.9 is out of range")
    assert main(["process", "nope"]) == 2
    assert "valid names:" in capsys.readouterr().err
