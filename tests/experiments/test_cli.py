"""The belieflab command line: the process summary, its figure, one-line errors, instant help."""

import itertools
import json
import subprocess
import sys

import numpy as np

import hmm
from experiments.cli import COMMANDS, build_parser, main
from tests.figure_checks import assert_drawn


def test_process_summary_and_plot(tmp_path, capsys):
    figure = tmp_path / "rrxor.png"
    assert main(["process", "rrxor", "--max-len", "10", "--plot", str(figure)]) == 0
    out = capsys.readouterr().out
    assert "36 distinct beliefs" in out
    assert "finite, 5 recurrent states" in out and "(0.6667 bits)" in out
    assert_drawn(figure, coloured=True)


def test_process_parameters_and_files(tmp_path, capsys):
    assert main(["process", "mess3", "--param", "x=0.15", "--param", "alpha=0.6", "--max-len", "3"]) == 0
    assert "Mess3 (x = 0.15, α = 0.6)" in capsys.readouterr().out
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


def test_help_imports_no_jax_and_shows_the_common_commands():
    code = (
        "import sys\nfrom experiments.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('JAX LOADED' if 'jax' in sys.modules else 'NO JAX')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("NO JAX")
    assert "belieflab run mess3" in out and "belieflab analyze runs/mess3" in out


def test_sweep_help_explains_the_shortcuts(capsys):
    try:
        main(["sweep", "--help"])
    except SystemExit:
        pass
    out = capsys.readouterr().out
    assert "seed=... for train.seed" in out and "lr=..." in out and "train.learning_rate" in out


def test_each_subcommand_runs_the_module_that_registered_it():
    import importlib

    choices = build_parser()._subparsers._group_actions[0].choices
    owners = {
        "run": "run",
        "analyze": "analyze",
        "plot": "analyze",
        "report": "report",
        "sweep": "sweep",
        "process": "process",
    }
    for command, owner in owners.items():
        module = importlib.import_module(f"experiments.commands.{owner}")
        assert f"experiments.commands.{owner}" in COMMANDS
        assert choices[command].get_default("func") is module.run, command


def test_yaml_errors_name_the_file_line_and_column(tmp_path, capsys):
    path = tmp_path / "mine.yaml"
    path.write_text("base: smoke\nmodel:\n  n_layers: 2\n  d_model: [16\n")
    assert main(["run", str(path), "--output-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"belieflab: error: config {path}, line 5, column 1:") and err.count("\n") == 1
    assert "<unicode string>" not in err


def _conditional_entropies_by_enumeration(process, n):
    """H(X_k | X_<k) for k = 0..n from the joint probability of every sequence of length n + 1 (numpy)."""
    T = np.asarray(process.transition_matrices, np.float64)
    pi, V = np.asarray(process.stationary_distribution, np.float64), process.vocab_size
    block = []
    for length in range(1, n + 2):
        probs = []
        for seq in itertools.product(range(V), repeat=length):
            v = pi
            for x in seq:
                v = v @ T[x]
            probs.append(v.sum())
        probs = np.array(probs)
        block.append(-np.sum(probs[probs > 0] * np.log(probs[probs > 0])))
    return np.diff(np.concatenate([[0.0], block]))


def test_process_prints_the_optimal_loss_of_the_context_asked_for(capsys):
    assert main(["process", "mess3", "--max-len", "3"]) == 0
    out = capsys.readouterr().out
    h = _conditional_entropies_by_enumeration(hmm.get_process("mess3"), 3)
    no_bos, bos = np.mean(h[1:4]), np.mean(h[0:3])  # inputs x0..x2 predict x1..x3; with BOS, x0..x2
    assert f"context 3 (model.n_ctx=3, as `belieflab run` reports it): {no_bos:.4f} nats" in out
    assert f"with BOS (model.bos=true): {bos:.4f} nats" in out
