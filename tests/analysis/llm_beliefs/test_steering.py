"""Belief steering in an LLM: on a stand-in built so one site holds the belief linearly, the decoder and encoder
steps reach the target's Bayes prediction (computed here from the process); random controls keep the steps' norms;
on a tiny random Llama a zero-size step leaves the prediction at the unsteered one, recomputed from plain logits."""

import numpy as np
import pytest

import hmm
from analysis.interventions.decoders import SiteDecoder
from analysis.interventions.steering import steps_toward
from analysis.llm_beliefs.forward import read_model
from analysis.llm_beliefs.regression import sequence_folds, site_regression
from analysis.llm_beliefs.sequences import sample_sequences
from analysis.llm_beliefs.steering import KINDS, fold_decoders, steer_sites
from tests.analysis.llm_beliefs.stand_ins import LinearBeliefModel

N, T, FOLDS = 8, 12, 2
SYMBOLS = np.array([3, 7, 11])


def _kl(p, q):
    return np.sum(p * np.log(p / q), -1)


@pytest.fixture(scope="module")
def linear():
    process = hmm.get_process("mess3")
    seqs = sample_sequences(process, N, T, seed=3)
    model = LinearBeliefModel(process, SYMBOLS)
    ids = SYMBOLS[seqs.tokens_NxT].astype(np.int32)
    site = LinearBeliefModel.SITE
    readout = read_model(model, ids, np.arange(T), SYMBOLS, (site,), batch_size=3)
    fold_N = sequence_folds(seqs.sequence_of_row(), FOLDS, seed=0)
    y = seqs.rows(seqs.beliefs_NxTxS)
    fit = site_regression(readout.resid[site], y, fold_N)
    decoders = {site: fold_decoders(readout.resid[site], y, fold_N, fit["fold_fits"], fit["cv"]["r2"])}
    return model, seqs, ids, decoders, fold_N.reshape(N, T)[:, 0]


def test_the_stand_in_predicts_bayes_and_its_site_holds_the_belief(linear):
    model, seqs, ids, decoders, _ = linear
    logits = np.asarray(model(ids)[0], np.float64)[..., SYMBOLS]
    q = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(q, seqs.bayes_NxTxV, atol=1e-5)
    assert all(d.belief_r2 > 1 - 1e-9 for d in decoders[LinearBeliefModel.SITE])


def test_decoder_and_encoder_steps_reach_the_targets_bayes_prediction(linear):
    model, seqs, ids, decoders, fold_S = linear
    beliefs, bayes = seqs.beliefs_NxTxS[:, -1], seqs.bayes_NxTxV[:, -1]
    out = steer_sites(
        model, ids, T - 1, SYMBOLS, [LinearBeliefModel.SITE], decoders, fold_S, beliefs, bayes,
        np.random.default_rng(0), batch_size=3,
    )  # fmt: skip
    far = np.abs(beliefs[:, None] - beliefs[None]).sum(-1).argmax(1)  # each source's target, by hand
    assert out["target_belief_l1"] == pytest.approx(np.abs(beliefs - beliefs[far]).sum(-1).mean())
    assert out["kl_target"]["unsteered"][0] == pytest.approx(_kl(bayes[far], bayes).mean(), rel=1e-4)
    assert out["kl_source"]["unsteered"][0] == pytest.approx(0.0, abs=1e-6)
    for kind in ("belief", "encoder"):
        assert out["kl_target"][kind][0] < 1e-6 and out["removed"][kind][0] == pytest.approx(1.0, abs=1e-5)
        assert out["kl_source"][kind][0] == pytest.approx(_kl(bayes, bayes[far]).mean(), rel=1e-3)
        assert out["nearer_target"][kind][0] == 1.0
    assert out["kl_target"]["random"][0] > 100 * out["kl_target"]["belief"][0]
    for kind, control in (("belief", "random"), ("encoder", "random_encoder")):
        assert out["step_norm"][control][0] == pytest.approx(out["step_norm"][kind][0], rel=1e-9)
        assert out["step_norm"][kind][0] > 0


def test_random_controls_keep_each_rows_norm_and_change_the_direction():
    rng = np.random.default_rng(1)
    D, S = 7, 3
    decoder = SiteDecoder(rng.normal(size=(D, S)), rng.normal(size=S), np.zeros((D, 0)), np.zeros(0), 1.0,
                          rng.normal(size=(S, D)))  # fmt: skip
    h, targets = rng.normal(size=(5, D)), rng.dirichlet(np.ones(S), 5)
    steps = steps_toward(decoder, h, targets, np.random.default_rng(2), kinds=KINDS)
    assert set(steps) == set(KINDS)
    for kind, control in (("belief", "random"), ("encoder", "random_encoder")):
        norms = np.linalg.norm(steps[kind], axis=1)
        np.testing.assert_allclose(np.linalg.norm(steps[control], axis=1), norms, rtol=1e-12)
        cosine = np.sum(steps[kind] * steps[control], 1) / norms**2
        assert np.all(np.abs(cosine) < 0.99)
    # the decoder step lands on the target under the decoder, by its definition
    np.testing.assert_allclose(decoder.belief(h + steps["belief"]), targets, atol=1e-9)


def test_a_zero_step_leaves_the_prediction_unchanged_on_a_tiny_llama(tmp_path):
    pytest.importorskip("safetensors.numpy", reason="needs the `llm` extra (safetensors)")
    from models.pretrained import load_pretrained
    from tests.experiments.llm.test_lens_llm import L, _tiny_llama_dir

    model, tokenizer = load_pretrained(_tiny_llama_dir(tmp_path))
    seqs = sample_sequences(hmm.get_process("mess3"), 4, 10, seed=1)
    ids_V = np.array([tokenizer.encode(s).ids[0] for s in "ABC"])
    ids = ids_V[seqs.tokens_NxT].astype(np.int32)
    sites = [f"blocks.{L - 1}.resid_pre", f"blocks.{L - 1}.resid_post"]
    D = 16
    zero = SiteDecoder(np.zeros((D, 3)), np.full(3, 1 / 3), np.zeros((D, 0)), np.zeros(0), 0.0, np.zeros((3, D)))
    beliefs, bayes = seqs.beliefs_NxTxS[:, -1], seqs.bayes_NxTxV[:, -1]
    out = steer_sites(
        model, ids, 9, ids_V, sites, {s: [zero] for s in sites}, np.zeros(4, int), beliefs, bayes,
        np.random.default_rng(0), sources=np.array([0, 2, 3]), targets=np.array([1, 1, 0]), batch_size=3,
    )  # fmt: skip
    logits = np.asarray(model(ids)[0], np.float64)[:, 9][:, ids_V]
    q = np.exp(logits - logits.max(-1, keepdims=True))
    q /= q.sum(-1, keepdims=True)
    expected = _kl(bayes[[1, 1, 0]], q[[0, 2, 3]]).mean()
    for kind in ("unsteered", *KINDS):
        np.testing.assert_allclose(out["kl_target"][kind], expected, rtol=1e-4)
    assert all(v == 0.0 for k in KINDS for v in out["step_norm"][k])
