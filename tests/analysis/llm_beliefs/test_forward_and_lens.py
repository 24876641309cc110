"""The next-symbol distribution renormalised over the symbols (and its mass), its KL to Bayes, and the logit lens
over the symbols, on a tiny random Llama, against numpy recomputations from the model's full logits."""

import numpy as np
import pytest

import hmm
from analysis.llm_beliefs.forward import read_model
from analysis.llm_beliefs.in_context import kl_curve
from analysis.llm_beliefs.lens import lenses_against_bayes
from analysis.llm_beliefs.sequences import sample_sequences
from analysis.llm_beliefs.symbols import symbol_map
from tests.analysis.llm_beliefs.stand_ins import TinyTokenizer
from tests.models.pretrained.test_interface import _random_llama, _random_weights


def _np_log_softmax(z):
    z = np.asarray(z, np.float64)
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


@pytest.fixture(scope="module")
def setup():
    model = _random_llama()
    process = hmm.get_process("mess3", x=0.05, alpha=0.85)
    seqs = sample_sequences(process, 5, 6, seed=1)
    symbols = symbol_map(TinyTokenizer(), 3, separator=",")
    ids = symbols.render(seqs.tokens_NxT)  # [5, 12] = the model's whole context
    positions = symbols.readout_positions(6)
    sites = ("blocks.1.resid_pre", "blocks.2.resid_post")
    return model, seqs, symbols, ids, positions, read_model(model, ids, positions, symbols.ids, sites, batch_size=2)


def test_renormalised_prediction_mass_and_kl_against_numpy(setup):
    model, seqs, symbols, ids, positions, out = setup
    logits = np.asarray(model(ids)[0], np.float64)[:, positions]  # [N, T, 23]
    full = _np_log_softmax(logits)
    log_q = _np_log_softmax(logits[..., symbols.ids])
    np.testing.assert_allclose(out.log_q_NxTxV, log_q, atol=1e-5)
    np.testing.assert_allclose(np.exp(out.log_mass_NxT), np.exp(full[..., symbols.ids]).sum(-1), atol=1e-6)
    q = np.exp(log_q)
    kl = (seqs.bayes_NxTxV * (np.log(seqs.bayes_NxTxV) - np.log(q))).sum(-1).mean(0)
    np.testing.assert_allclose(kl_curve(seqs.bayes_NxTxV, np.exp(out.log_q_NxTxV)), kl, atol=1e-5)


def test_residuals_are_taken_at_the_readout_positions(setup):
    model, _, _, ids, positions, out = setup
    acts = model(ids, capture=("blocks.1.resid_pre",))[1]["blocks.1.resid_pre"]
    np.testing.assert_allclose(
        out.resid["blocks.1.resid_pre"], np.asarray(acts)[:, positions].reshape(-1, 16), atol=1e-5
    )


def test_logit_lens_kl_to_bayes_over_the_symbols_against_numpy(setup):
    model, seqs, symbols, ids, positions, out = setup
    bayes = seqs.rows(seqs.bayes_NxTxV)
    heldout = np.arange(12, 30)
    lenses = lenses_against_bayes(model, symbols.ids, out.resid, bayes, heldout)
    h = out.resid["blocks.1.resid_pre"][heldout].astype(np.float64)
    weights = _random_weights()  # what the model was built from (tied embeddings: W_U = W_E^T)
    normed = h / np.sqrt((h**2).mean(-1, keepdims=True) + 1e-5) * weights["ln_final"]["w"]
    symbol_W = weights["W_E"][symbols.ids].T
    log_q = _np_log_softmax(normed @ symbol_W)
    kl = np.mean((bayes[heldout] * (np.log(bayes[heldout]) - log_q)).sum(-1))
    assert lenses["logit"]["kl_bayes"][0] == pytest.approx(kl, abs=1e-4)
    # the last site's readout is the model's own renormalised output
    own = np.mean((bayes[heldout] * (np.log(bayes[heldout]) - out.log_q_NxTxV.reshape(-1, 3)[heldout])).sum(-1))
    assert lenses["logit"]["kl_bayes"][-1] == pytest.approx(own, abs=1e-4)
    assert lenses["model"]["kl_bayes"] == pytest.approx(own, abs=1e-4)
