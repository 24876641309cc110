"""`belieflab lens-llm` end to end on a tiny random Llama directory (safetensors + byte-level tokenizer.json,
written here with numpy): the run directory, and the logit-lens KL recomputed independently."""

import hashlib
import json

import numpy as np
import pytest

safetensors_numpy = pytest.importorskip("safetensors.numpy", reason="needs the `llm` extra (safetensors)")
tokenizers = pytest.importorskip("tokenizers", reason="needs the `llm` extra (tokenizers)")

from experiments.cli import main  # noqa: E402
from experiments.llm.corpus import split_text  # noqa: E402
from models.pretrained import load_pretrained  # noqa: E402

D, F, L, V = 16, 24, 2, 256


def _tiny_llama_dir(path):
    rng = np.random.default_rng(0)
    r = lambda *shape: rng.normal(0, 0.4, shape).astype(np.float32)  # noqa: E731
    tensors = {"model.embed_tokens.weight": r(V, D), "model.norm.weight": 1 + r(D)}
    for layer in range(L):
        p = f"model.layers.{layer}."
        tensors |= {
            p + "input_layernorm.weight": 1 + r(D),
            p + "post_attention_layernorm.weight": 1 + r(D),
            p + "self_attn.q_proj.weight": r(D, D),
            p + "self_attn.k_proj.weight": r(8, D),
            p + "self_attn.v_proj.weight": r(8, D),
            p + "self_attn.o_proj.weight": r(D, D),
            p + "mlp.gate_proj.weight": r(F, D),
            p + "mlp.up_proj.weight": r(F, D),
            p + "mlp.down_proj.weight": r(D, F),
        }
    safetensors_numpy.save_file(tensors, str(path / "model.safetensors"))
    (path / "config.json").write_text(
        json.dumps(
            {
                "model_type": "llama",
                "vocab_size": V,
                "hidden_size": D,
                "num_hidden_layers": L,
                "num_attention_heads": 4,
                "num_key_value_heads": 2,
                "intermediate_size": F,
                "max_position_embeddings": 64,
                "rms_norm_eps": 1e-5,
                "tie_word_embeddings": True,
                "hidden_act": "silu",
            }
        )
    )
    alphabet = sorted(tokenizers.pre_tokenizers.ByteLevel.alphabet())
    tok = tokenizers.Tokenizer(tokenizers.models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = tokenizers.decoders.ByteLevel()
    tok.save(str(path / "tokenizer.json"))
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("lens_llm")
    (base / "model").mkdir()
    model_dir = _tiny_llama_dir(base / "model")
    text = base / "text.txt"
    text.write_text("".join(f"Line {i}: the quick brown fox jumps over the lazy dog.\n" for i in range(60)))
    out = base / "run"
    code = main(
        [
            "lens-llm",
            "--model",
            str(model_dir),
            "--text",
            str(text),
            "--tokens",
            "256",
            "--heldout-tokens",
            "64",
            "--window",
            "32",
            "--windows-per-step",
            "2",
            "--curve-points",
            "2",
            "--future-every",
            "1",
            "--transfer-every",
            "1",
            "--output-dir",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    return model_dir, text, out


def test_run_directory_like_a_toy_run(run):
    _, _, out = run
    for name in (
        "config.yaml",
        "lenses.json",
        "report.html",
        "figures/kl_by_layer.png",
        "figures/transfer.png",
        "figures/logit_grid.png",
        "figures/ce_entropy_by_layer.png",
        "figures/budget_curve.png",
        "figures/future_lens.png",
    ):
        assert (out / name).is_file(), name
    result = json.loads((out / "lenses.json").read_text())
    assert result["sites"][-1] == "blocks.1.resid_post" and len(result["sites"]) == L + 1
    assert result["text"]["train_tokens"] == 256 and result["text"]["heldout_tokens"] == 64
    assert result["logit"]["kl_model"][-1] == pytest.approx(0.0, abs=1e-6)
    penalty = np.asarray(result["transfer"]["kl_model_penalty"])
    assert penalty.shape == (L + 1, L + 1) and np.abs(penalty).max() > 0
    assert len(result["grid"]["logit"]["top1"]) == L + 1
    assert [c["tokens"] for c in result["curve"]] == [0, 128, 256] and result["text"]["mode"] == "corpus"
    assert result["training"]["readout_vocab"] == "full" and result["future"]["horizons"] == [0, 1, 2, 3]


def test_checkpoint_and_bits_per_byte_are_recorded(run):
    model_dir, _, out = run
    result = json.loads((out / "lenses.json").read_text())
    checkpoint = result["model"]["checkpoint"]
    assert checkpoint["format"] == "safetensors" and checkpoint["file"] == model_dir.name
    digest = hashlib.sha256((model_dir / "model.safetensors").read_bytes()).hexdigest()
    assert checkpoint["sha256"] == {"model.safetensors": digest}
    own = result["model"]["heldout"]
    assert result["text"]["heldout_bytes"] == result["text"]["heldout_rows"]  # one byte per token, ASCII text
    assert own["bits_per_byte"] == pytest.approx(own["cross_entropy_observed"] / np.log(2), rel=1e-6)


@pytest.mark.slow
def test_self_distillation_and_a_token_subset(run, tmp_path):
    model_dir, text, _ = run
    out = tmp_path / "self"
    assert (
        main(
            [
                "lens-llm",
                "--model",
                str(model_dir),
                "--text",
                "self",
                "--corpus-file",
                str(text),
                "--tokens",
                "128",
                "--heldout-tokens",
                "64",
                "--window",
                "32",
                "--windows-per-step",
                "2",
                "--curve-points",
                "1",
                "--train-vocab",
                "40",
                "--future-horizon",
                "1",
                "--output-dir",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    result = json.loads((out / "lenses.json").read_text())
    assert result["text"]["mode"] == "self" and result["training"]["tokens"] == 128
    assert result["training"]["readout_vocab"] == 40 and len(result["tuned"]["subset_kl_error"]) == L + 1


def test_a_budget_below_one_step_is_a_one_line_error(run, capsys):
    model_dir, text, _ = run
    assert main(["lens-llm", "--model", str(model_dir), "--text", str(text), "--tokens", "100", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert "tokens=100" in err and "\n" not in err


def test_logit_lens_kl_recomputed_from_the_held_out_text(run):
    model_dir, text, out = run
    result = json.loads((out / "lenses.json").read_text())
    model, tokenizer = load_pretrained(model_dir)
    _, heldout = split_text(text.read_text(), 0.25)
    ids = np.array(tokenizer.encode(heldout).ids[:64]).reshape(2, 32)
    logits, acts = model(ids, capture=("blocks.1.resid_pre",))
    log_p = np.log(
        np.exp(np.asarray(logits, np.float64)[:, :-1])
        / np.exp(np.asarray(logits, np.float64)[:, :-1]).sum(-1, keepdims=True)
    )
    lens = np.asarray(model.logits_from_residual(acts["blocks.1.resid_pre"]), np.float64)[:, :-1]
    log_q = lens - np.log(np.exp(lens).sum(-1, keepdims=True))
    kl = (np.exp(log_p) * (log_p - log_q)).sum(-1).mean()
    assert result["logit"]["kl_model"][1] == pytest.approx(kl, rel=1e-3)


def test_missing_text_is_a_one_line_error(run, capsys):
    model_dir, _, out = run
    assert main(["lens-llm", "--model", str(model_dir), "--text", str(out / "nope.txt"), "--no-progress"]) == 2
    assert "nope.txt" in capsys.readouterr().err


def test_text_that_is_not_utf8_is_a_one_line_error(run, tmp_path, capsys):
    model_dir, _, _ = run
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\u00e9 na\u00efve ".encode("latin-1") * 50)
    assert main(["lens-llm", "--model", str(model_dir), "--text", str(latin1), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert "not UTF-8 text" in err and "\n" not in err


def test_checkpoint_is_named_in_lenses_json_report_and_console(run):
    model_dir, _, out = run
    identity = json.loads((out / "lenses.json").read_text())["model"]["checkpoint"]
    assert identity["file"] == model_dir.name and identity["format"] == "safetensors"
    assert identity["tensor_types"] == {"F32": 2 + 9 * L}  # the tensors _tiny_llama_dir wrote, all float32
    page = (out / "report.html").read_text()
    assert f"{model_dir.name} (safetensors; tensors {2 + 9 * L} F32)" in page
