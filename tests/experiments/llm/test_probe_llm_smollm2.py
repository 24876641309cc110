"""`belieflab probe-llm` on the shipped SmolLM2-135M (slow): the real command on a few short Mess3 sequences, its
in-context KL to Bayes checked against transformers loading the same GGUF file (an independent model)."""

import json

import numpy as np
import pytest

import hmm
from analysis.llm_beliefs.sequences import sample_sequences
from experiments.cli import main

pytestmark = pytest.mark.slow


def test_probe_llm_on_smollm2_matches_transformers(tmp_path):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from models.pretrained import PretrainedError
    from models.pretrained.load import shipped_model_path

    try:
        gguf = shipped_model_path("smollm2-135m")
    except PretrainedError as missing:
        pytest.skip(f"SmolLM2 is not installed ({missing})")
    out = tmp_path / "run"
    assert (
        main(
            [
                "probe-llm",
                "--model",
                "smollm2-135m",
                "--process",
                "mess3",
                "--sequences",
                "6",
                "--length",
                "48",
                "--folds",
                "3",
                "--shuffles",
                "10",
                "--cv-shuffles",
                "5",
                "--tuned-steps",
                "5",
                "--quiet",
                "--output-dir",
                str(out),
            ]
        )
        == 0
    )
    result = json.loads((out / "analysis.json").read_text())
    checkpoint = result["model"]["checkpoint"]
    assert checkpoint["file"] == "SmolLM2-135M-Instruct.Q4_1.gguf" and checkpoint["quantisation"] == "MOSTLY_Q4_1"
    assert result["symbols"]["symbols"] == [" A", " B", " C"] and len(result["regression"]["sites"]) == 31
    for name in ("report.html", "figures/geometry.png", "figures/r2_by_site.png", "figures/lens_kl.png"):
        assert (out / name).is_file()

    tokenizer = transformers.AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    ).eval()
    ids = [tokenizer.encode(s, add_special_tokens=False)[0] for s in (" A", " B", " C")]
    seqs = sample_sequences(hmm.get_process("mess3"), 6, 48, seed=0)
    with torch.no_grad():
        logits = model(torch.tensor(np.array(ids)[seqs.tokens_NxT])).logits.double().numpy()
    full = logits - logits.max(-1, keepdims=True)
    log_all = full - np.log(np.exp(full).sum(-1, keepdims=True))
    log_q = log_all[..., ids] - np.log(np.exp(log_all[..., ids]).sum(-1, keepdims=True))
    kl = np.sum(seqs.bayes_NxTxV * (np.log(seqs.bayes_NxTxV) - log_q), -1).mean(0)
    np.testing.assert_allclose(result["in_context"]["kl_to_bayes"]["model"], kl, rtol=2e-3, atol=2e-4)
    np.testing.assert_allclose(
        result["in_context"]["symbol_mass"], np.exp(log_all[..., ids]).sum(-1).mean(0), rtol=2e-3, atol=2e-4
    )
