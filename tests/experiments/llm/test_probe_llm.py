"""`belieflab probe-llm` end to end on a tiny random Llama directory (the lens-llm tests' helper): the run
directory, the in-context KL recomputed independently from the model's logits, and one-line input errors."""

import json

import numpy as np
import pytest

import hmm
from analysis.llm_beliefs.sequences import sample_sequences
from experiments.cli import main
from models.pretrained import load_pretrained
from tests.experiments.llm.test_lens_llm import L, _tiny_llama_dir

ARGS = [
    "--process",
    "mess3",
    "--sequences",
    "8",
    "--length",
    "30",
    "--symbols",
    "A",
    "B",
    "C",
    "--separator",
    ",",
    "--folds",
    "4",
    "--shuffles",
    "10",
    "--cv-shuffles",
    "5",
    "--tuned-steps",
    "3",
    "--quiet",
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("probe_llm")
    (base / "model").mkdir()
    model_dir = _tiny_llama_dir(base / "model")
    out = base / "run"
    assert main(["probe-llm", "--model", str(model_dir), *ARGS, "--output-dir", str(out)]) == 0
    return model_dir, out


def test_run_directory_and_its_numbers(run):
    _, out = run
    for name in (
        "config.yaml",
        "analysis.json",
        "report.html",
        "figures/in_context_kl.png",
        "figures/r2_by_site.png",
        "figures/geometry.png",
        "figures/lens_kl.png",
    ):
        assert (out / name).is_file(), name
    result = json.loads((out / "analysis.json").read_text())
    assert result["model"]["checkpoint"]["file"] == "model"
    assert result["symbols"]["separator"] == "," and result["symbols"]["model_tokens_per_sequence"] == 60
    assert result["regression"]["sites"] == [f"blocks.{i}.resid_pre" for i in range(L)] + [f"blocks.{L - 1}.resid_post"]
    trained = result["regression"]["trained"]
    best = result["summary"]["best_site"]
    assert best in trained and set(result["regression"]["permuted"]) == set(trained)
    assert set(trained[best]["buckets"]) == {"early", "mid", "late"}
    assert len(result["in_context"]["kl_to_bayes"]["model"]) == 30
    assert set(result["in_context"]["kl_to_bayes"]) == {"model", "permuted", "1-gram", "2-gram", "3-gram"}
    assert len(result["lenses"]["logit"]["kl_bayes"]) == L + 1 and "tuned" in result["lenses"]
    assert "patching" not in result  # opt-in


def test_in_context_kl_recomputed_from_the_models_logits(run):
    model_dir, out = run
    result = json.loads((out / "analysis.json").read_text())
    model, tokenizer = load_pretrained(model_dir)
    seqs = sample_sequences(hmm.get_process("mess3"), 8, 30, seed=0)
    ids = [tokenizer.encode(s).ids[0] for s in "ABC"]
    comma = tokenizer.encode(",").ids[0]
    rendered = np.stack([np.array(ids)[seqs.tokens_NxT], np.full(seqs.tokens_NxT.shape, comma)], -1).reshape(8, 60)
    logits = np.asarray(model(rendered)[0], np.float64)[:, 1::2][..., ids]  # read at each comma
    q = np.exp(logits - logits.max(-1, keepdims=True))
    q /= q.sum(-1, keepdims=True)
    kl = np.sum(seqs.bayes_NxTxV * np.log(seqs.bayes_NxTxV / q), -1).mean(0)
    np.testing.assert_allclose(result["in_context"]["kl_to_bayes"]["model"], kl, rtol=1e-4, atol=1e-6)
    assert result["in_context"]["kl_last"]["model"] == pytest.approx(kl[-1], rel=1e-4, abs=1e-6)


def test_best_sites_r2_refitted_with_numpy_least_squares(run):
    model_dir, out = run
    result = json.loads((out / "analysis.json").read_text())
    trained = result["regression"]["trained"]
    best = result["summary"]["best_site"]
    assert trained[best]["cv"]["r2"] == max(t["cv"]["r2"] for t in trained.values())
    model, tokenizer = load_pretrained(model_dir)
    seqs = sample_sequences(hmm.get_process("mess3"), 8, 30, seed=0)
    ids = [tokenizer.encode(s).ids[0] for s in "ABC"]
    comma = tokenizer.encode(",").ids[0]
    rendered = np.stack([np.array(ids)[seqs.tokens_NxT], np.full(seqs.tokens_NxT.shape, comma)], -1).reshape(8, 60)
    acts = np.asarray(model(rendered, capture=best)[1][best], np.float64)[:, 1::2].reshape(240, -1)
    y = seqs.beliefs_NxTxS.reshape(240, -1)
    x = np.hstack([acts, np.ones((240, 1))])
    fit = x @ np.linalg.lstsq(x, y, rcond=None)[0]
    r2 = 1 - ((y - fit) ** 2).sum() / ((y - y.mean(0)) ** 2).sum()
    assert trained[best]["metrics"]["r2"] == pytest.approx(r2, abs=1e-5)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--sequences", "1"], "probe-llm --sequences=1 is invalid: an integer >= 2"),
        (["--folds", "9"], "probe-llm --folds=9 is invalid: at most --sequences=8"),
        (["--symbols", "A", "B"], "the process has 3 tokens, so give exactly 3 symbols"),
        (["--sites", "some"], "probe-llm --sites='some' is invalid"),
        (["--process", "mess4"], "mess4"),
        (["--steering", "--steering-pairs", "9"], "probe-llm --steering-pairs=9 is invalid: at most --sequences=8"),
        (["--steering-pairs", "2"], "probe-llm --steering-pairs=2 is invalid without --steering"),
    ],
)
def test_bad_inputs_fail_in_one_line_before_loading(run, tmp_path, capsys, extra, message):
    code = main(
        ["probe-llm", "--model", str(tmp_path / "absent.gguf"), *ARGS, *extra, "--output-dir", str(tmp_path / "out")]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and "\n" not in err
    assert "absent.gguf" not in err  # the settings were refused before the model was looked for


def test_symbols_and_length_checked_against_the_models_tokenizer_and_context(run, tmp_path, capsys):
    model_dir, _ = run
    args = ["probe-llm", "--model", str(model_dir), *ARGS, "--output-dir", str(tmp_path / "out")]
    assert main([*args, "--symbols", " A", "B", "C"]) == 2
    assert "symbol ' A' is invalid: it encodes to 2 tokens" in capsys.readouterr().err
    assert main([*args, "--length", "40"]) == 2
    assert "80 model tokens exceed the model's context of 64" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_mixture_adds_the_component_posterior_as_a_target(run, tmp_path):
    model_dir, _ = run
    out = tmp_path / "pool"
    assert (
        main(
            [
                "probe-llm",
                "--model",
                str(model_dir),
                "--process",
                "markov_pool",
                "--sequences",
                "6",
                "--length",
                "20",
                "--symbols",
                "A",
                "B",
                "C",
                "--folds",
                "3",
                "--shuffles",
                "0",
                "--cv-shuffles",
                "0",
                "--tuned-steps",
                "0",
                "--quiet",
                "--output-dir",
                str(out),
            ]
        )
        == 0
    )
    result = json.loads((out / "analysis.json").read_text())
    assert result["process"]["components"] == [4, 4, 4, 4]
    assert result["regression"]["extra_target"] == "component posterior (mixture)"
    for fits in (result["regression"]["trained"], result["regression"]["permuted"]):
        assert all(np.isfinite(fit["component"]["cv_r2"]) for fit in fits.values())
    assert result["summary"]["component_best_site"] in result["regression"]["sites"]
    assert "tuned" not in result["lenses"]


def test_patching_section_figure_and_table(run, tmp_path):
    model_dir, _ = run
    out = tmp_path / "patched"
    small = ["--sequences", "4", "--length", "10", "--folds", "2", "--shuffles", "0", "--cv-shuffles", "0"]
    args = ["probe-llm", "--model", str(model_dir), *ARGS, *small, "--tuned-steps", "0", "--patching"]
    assert main([*args, "--output-dir", str(out)]) == 0
    result = json.loads((out / "analysis.json").read_text())
    patching = result["patching"]
    assert patching["sites"] == result["regression"]["sites"] and patching["layers"] == list(range(L + 1))
    assert patching["modes"]["all"]["far"][-1] == pytest.approx(1.0, abs=1e-4)  # the final residual is B's run
    # the pairs from the exact last beliefs, by brute force: farthest and nearest other sequence in L1
    beliefs = sample_sequences(hmm.get_process("mess3"), 4, 10, seed=0).beliefs_NxTxS[:, -1]
    dist = np.array([[np.abs(p - q).sum() for q in beliefs] for p in beliefs])
    far = [max(range(4), key=lambda j: dist[i, j]) for i in range(4)]
    near = [min((j for j in range(4) if j != i), key=lambda j: dist[i, j]) for i in range(4)]
    assert patching["far_belief_l1"] == pytest.approx(np.mean([dist[i, far[i]] for i in range(4)]))
    assert patching["control_belief_l1"] == pytest.approx(np.mean([dist[i, near[i]] for i in range(4)]))
    assert (out / "figures" / "patching.png").is_file()
    report = (out / "report.html").read_text()
    assert "Activation patching" in report and f"{patching['modes']['last']['control'][0]:.3f}" in report


def test_steering_section_figure_and_table(run, tmp_path, capsys):
    model_dir, _ = run
    out = tmp_path / "steered"
    small = ["--sequences", "4", "--length", "10", "--folds", "2", "--shuffles", "0", "--cv-shuffles", "0"]
    args = ["probe-llm", "--model", str(model_dir), *ARGS, *small, "--tuned-steps", "0", "--batch-size", "3"]
    assert main([*args, "--steering", "--steering-pairs", "3", "--output-dir", str(out)]) == 0
    assert "steering: fraction of KL(Bayes_target || unsteered) removed per layer" in capsys.readouterr().out
    result = json.loads((out / "analysis.json").read_text())
    steering = result["steering"]
    assert steering["sites"] == result["regression"]["sites"] and steering["layers"] == list(range(L + 1))
    assert steering["pairs"] == 3 and steering["position"] == 19  # the comma after the 10th symbol
    # the unsteered score recomputed from the model's plain logits, the targets by brute force (farthest belief)
    seqs = sample_sequences(hmm.get_process("mess3"), 4, 10, seed=0)
    beliefs, bayes = seqs.beliefs_NxTxS[:, -1], seqs.bayes_NxTxV[:, -1]
    far = [max(range(4), key=lambda j: np.abs(beliefs[i] - beliefs[j]).sum()) for i in range(3)]
    model, tokenizer = load_pretrained(model_dir)
    ids = np.array([tokenizer.encode(s).ids[0] for s in "ABC"])
    comma = tokenizer.encode(",").ids[0]
    rendered = np.stack([ids[seqs.tokens_NxT], np.full(seqs.tokens_NxT.shape, comma)], -1).reshape(4, 20)
    logits = np.asarray(model(rendered)[0], np.float64)[:, 19][:, ids]
    q = np.exp(logits - logits.max(-1, keepdims=True))
    q /= q.sum(-1, keepdims=True)
    assert steering["sources"] == [0, 1, 2] and steering["targets"] == far
    kl_target = np.sum(bayes[far] * np.log(bayes[far] / q[:3]), -1).mean()
    assert steering["kl_target"]["unsteered"] == pytest.approx([kl_target] * (L + 1), rel=1e-4)
    reachable = np.sum(bayes[far] * np.log(bayes[far] / q[far]), -1).mean()
    assert steering["kl_target_reachable"] == pytest.approx(reachable, rel=1e-4)
    for kind, control in (("belief", "random"), ("encoder", "random_encoder")):
        np.testing.assert_allclose(steering["step_norm"][control], steering["step_norm"][kind], rtol=1e-9)
    assert all(np.isfinite(steering["kl_target"][k]).all() for k in steering["kinds"])
    assert (out / "figures" / "steering.png").is_file()
    report = (out / "report.html").read_text()
    assert "Belief steering" in report
    assert f"<td>{steering['kl_target']['belief'][0]:.4f}</td><td>{steering['kl_target']['random'][0]:.4f}</td>" in (
        report
    )
