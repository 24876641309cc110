"""Bad input gets a ProcessError that names the problem; never a raw numpy/JAX traceback."""

import json

import numpy as np
import pytest

import hmm
from hmm import ProcessError


def raises(match):
    return pytest.raises(ProcessError, match=match)


def test_unknown_process_lists_valid_names():
    with raises(r"unknown process 'mess4'.*mess3.*rrxor"):
        hmm.get_process("mess4")


def test_unknown_parameter_lists_valid_ones():
    with raises(r"unknown parameter\(s\) beta; valid: x .*alpha"):
        hmm.get_process("mess3", beta=0.3)


@pytest.mark.parametrize(
    "name, params, match",
    [
        ("mess3", dict(x=0.7), r"x=0.7 is out of range; allowed in \(0.0, 0.5\]"),
        ("mess3", dict(alpha=-0.1), r"alpha=-0.1 is out of range"),
        ("rrxor", dict(p1=1.0), r"p1=1.0 is out of range"),
        ("random_hmm", dict(num_states=2.5), r"num_states=2.5 must be an integer"),
        ("post_quantum", dict(alpha=0.5), r"alpha=0.5 is out of range"),
        ("even", dict(p="half"), r"must be a number"),
    ],
)
def test_out_of_range_parameters(name, params, match):
    with raises(match):
        hmm.get_process(name, **params)


def test_wrong_shape():
    with raises(r"shape \[V, S, S\].*got \[2, 3\]"):
        hmm.from_matrices(np.ones((2, 3)))
    with raises(r"shape \[V, S, S\].*got \[2, 2, 3\]"):
        hmm.from_matrices(np.ones((2, 2, 3)))


def test_nan_and_inf():
    T = hmm.get_process("even").transition_matrices.copy()
    T[1, 0, 1] = np.nan
    with raises(r"NaN/inf entries, first at T\[1, 0, 1\]"):
        hmm.from_matrices(T)


def test_negative_entry_in_hmm():
    T = hmm.get_process("even").transition_matrices.copy()
    T[0, 0, 0], T[1, 0, 1] = -0.1, 1.1
    with raises(r"non-negative; T\[0, 0, 0\] = -0.1"):
        hmm.from_matrices(T)


def test_rows_not_summing_to_one_name_the_worst_row():
    T = hmm.get_process("mess3").transition_matrices.copy()
    T[0, 2, 2] += 0.3
    T[1, 1, 1] += 0.05
    with raises(r"worst is row 2 .* with sum 1.3"):
        hmm.from_matrices(T)


def test_non_ergodic_process():
    T = np.zeros((2, 2, 2))
    T[0, 0, 0] = 1.0  # state 0 emits 0 forever
    T[1, 1, 1] = 1.0  # state 1 emits 1 forever
    with raises(r"stationary distribution is not unique.*2 eigenvalues"):
        hmm.from_matrices(T)


def test_ghmm_must_conserve_w():
    T = hmm.get_process("fanizza").transition_matrices
    with raises(r"\(sum_x T\[x\]\) w must equal w"):
        hmm.from_matrices(T, np.array([1.0, 2.0, 1.0, 1.0]))
    with raises(r"w must have shape \[4\]"):
        hmm.from_matrices(T, np.ones(3))


def test_tree_too_large_says_how_big_and_what_to_do():
    with raises(r"would hold up to [\d,]+ prefixes .*GiB.*min_prob.*max_len"):
        hmm.mixed_state_presentation(hmm.get_process("mess3"), 30)
    with raises(r"max_len must be a positive integer"):
        hmm.mixed_state_presentation(hmm.get_process("mess3"), 0)


def test_process_files(tmp_path):
    even = hmm.get_process("even")
    path = tmp_path / "even.json"
    path.write_text(json.dumps({"transition_matrices": even.transition_matrices.tolist()}))
    assert hmm.load_process(path).name == "even"
    np.savez(tmp_path / "g.npz", T=hmm.get_process("fanizza").transition_matrices, w=np.ones(4))
    assert hmm.load_process(tmp_path / "g.npz").is_generalized
    (tmp_path / "bad.yaml").write_text("name: x\n")
    with raises(r"no 'transition_matrices'"):
        hmm.load_process(tmp_path / "bad.yaml")
    with raises(r"does not exist"):
        hmm.load_process(tmp_path / "missing.yaml")
    (tmp_path / "p.txt").write_text("1")
    with raises(r"must end in .yaml"):
        hmm.load_process(tmp_path / "p.txt")
