"""Bad arguments to the process API and bad process files: one ProcessError naming the argument or file."""

import pickle

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hmm
from hmm.sampling import _sample

P = hmm.get_process("mess3")


@pytest.mark.parametrize("tokens", [[[0, 1, 3]], [[0, -1, 2]]])
@pytest.mark.parametrize("parallel", [False, True])
def test_out_of_vocabulary_tokens_name_the_argument(tokens, parallel):
    with pytest.raises(hmm.ProcessError, match=r"tokens hold (3|-1), outside the vocabulary .*allowed 0\.\.2"):
        hmm.beliefs(P, jnp.array(tokens), parallel=parallel)
    with pytest.raises(hmm.ProcessError, match="tokens"):
        hmm.sequence_log_prob(P, np.array(tokens))


def test_float_tokens_are_refused():
    with pytest.raises(hmm.ProcessError, match="integers"):
        hmm.beliefs(P, np.array([[0.0, 1.0]]))


@pytest.mark.parametrize("batch_size", [-1, 0, 2.5, True])
def test_sample_sizes_name_the_argument(batch_size):
    with pytest.raises(hmm.ProcessError, match=f"batch_size={batch_size!r} is invalid"):
        hmm.sample(P, jax.random.key(0), batch_size=batch_size, seq_len=4)
    with pytest.raises(hmm.ProcessError, match="seq_len=-3 is invalid"):
        hmm.sample(P, jax.random.key(0), batch_size=2, seq_len=-3)


def test_checks_sit_outside_jit_and_leave_traced_calls_alone():
    tokens, beliefs = hmm.sample(P, jax.random.key(1), batch_size=3, seq_len=5)
    np.testing.assert_array_equal(tokens, _sample(P, jax.random.key(1), 3, 5)[0])
    traced = jax.jit(lambda t: hmm.beliefs(P, t))(tokens)  # tracers are not inspected
    np.testing.assert_allclose(traced, beliefs, atol=1e-5)


class _WritesAFile:
    """Unpickling this creates a file: proof that a pickle was (or was not) loaded."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


@pytest.mark.parametrize("name", ["process.pkl", "process.npz"])
def test_pickles_are_named_and_never_loaded(tmp_path, name):
    marker = tmp_path / "loaded"
    (tmp_path / name).write_bytes(pickle.dumps({"T": _WritesAFile(marker)}))
    with pytest.raises(hmm.ProcessError, match="is a Python pickle, which is never loaded.*accepted: .yaml"):
        hmm.load_process(tmp_path / name)
    assert not marker.exists()


def test_object_arrays_in_npz_are_named(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, T=np.array([np.asarray(P.transition_matrices), None], dtype=object))
    with pytest.raises(hmm.ProcessError, match="holds an object array"):
        hmm.load_process(path)


def test_binary_yaml_is_not_a_decode_error(tmp_path):
    path = tmp_path / "process.yaml"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(hmm.ProcessError, match="is not a text file"):
        hmm.load_process(path)
