"""Activation patching on a tiny random Llama: the pair choice and the zero-gap rule by hand, full-residual patching
at the final residual reproduces the source run (closed fraction 1), and a source with A's own tokens closes 0."""

import numpy as np
import pytest

import hmm
from analysis.llm_beliefs.patching import ZERO_GAP, closed_fraction, patch_sites, patching_pairs
from analysis.llm_beliefs.sequences import sample_sequences
from models.pretrained import load_pretrained
from tests.experiments.llm.test_lens_llm import L, _tiny_llama_dir


def test_pairs_farthest_and_nearest_by_hand():
    beliefs = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 0, 1], [0.4, 0.4, 0.2]])
    a, far, near = patching_pairs(beliefs)
    assert a.tolist() == [0, 1, 2, 3]
    assert far.tolist() == [2, 2, 0, 2]  # L1: 0-2 and 1-2 are 2, 2-3 is 1.6, 3-1 is 1
    assert near.tolist() == [1, 0, 3, 1]


def test_closed_fraction_by_hand_and_the_zero_gap():
    assert closed_fraction([1.0, 3.0], [0.5, 1.5], [0.0, 1.0]) == pytest.approx(2.0 / 3.0)
    assert closed_fraction([0.2], [0.2], [0.2]) == 0.0  # nothing to close
    assert closed_fraction([0.2], [5.0], [0.2 - ZERO_GAP / 2]) == 0.0
    assert closed_fraction([1.0], [2.0], [0.0]) == -1.0  # patching can move away from the target


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    model, tokenizer = load_pretrained(_tiny_llama_dir(tmp_path_factory.mktemp("model")))
    seqs = sample_sequences(hmm.get_process("mess3"), 6, 12, seed=1)
    ids_V = np.array([tokenizer.encode(s).ids[0] for s in "ABC"])
    return model, ids_V[seqs.tokens_NxT].astype(np.int32), ids_V, seqs


def test_full_patch_reproduces_the_source_and_a_self_patch_moves_nothing(setup):
    model, ids, ids_V, seqs = setup
    sites = [f"blocks.{i}.resid_pre" for i in range(L)] + [f"blocks.{L - 1}.resid_post"]
    a = np.arange(6)
    b = np.array([3, 4, 5, 0, 1, 2])
    out = patch_sites(
        model, ids, 11, ids_V, sites, seqs.bayes_NxTxV[:, -1], seqs.beliefs_NxTxS[:, -1], 2, pairs=(a, b, a)
    )
    full = out["modes"]["all"]
    np.testing.assert_allclose(full["far"], 1.0, atol=1e-4)  # every site's full residual carries B's whole run
    np.testing.assert_allclose(full["far_kl_after"], out["far_kl_reachable"], rtol=1e-4, atol=1e-6)
    assert out["modes"]["last"]["far"][-1] == pytest.approx(1.0, abs=1e-4)  # the output reads only the last row
    assert all(v == 0.0 for m in out["modes"].values() for v in m["control"])  # A from A: a zero gap
    assert all(v == 0.0 for m in out["modes"].values() for v in m["control_of_far_gap"])  # and nothing moved
    assert out["control_belief_l1"] == 0.0 and out["far_belief_l1"] > 0
    # B's own run recomputed independently: KL(Bayes_B || q_B) from the plain logits
    logits = np.asarray(model(ids)[0], np.float64)[:, 11][:, ids_V]
    q = np.exp(logits - logits.max(-1, keepdims=True))
    q /= q.sum(-1, keepdims=True)
    bayes = seqs.bayes_NxTxV[:, -1]
    assert out["far_kl_reachable"] == pytest.approx(np.sum(bayes * np.log(bayes / q), -1)[b].mean(), rel=1e-4)
