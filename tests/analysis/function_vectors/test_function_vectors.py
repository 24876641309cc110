"""Function vectors on a tiny random Llama: the causal indirect effect of every head against full forward
passes with `blocks.{l}.attn.z` replaced, the added vector against a full pass with `resid_pre` replaced (and
both interventions really change the output), the projection through W_O against the model's own attn_out,
and the tasks and prompts against their definitions."""

import string
from types import SimpleNamespace

import jax
import numpy as np
import pytest

from analysis.function_vectors.last_token import added_vector_outputs
from analysis.function_vectors.measure import random_directions
from analysis.function_vectors.prompts import TaskTokens, prompt_set
from analysis.function_vectors.tasks import DAYS, task_pairs
from analysis.function_vectors.vector import (
    causal_indirect_effects,
    function_vector,
    mean_head_outputs,
    top_heads,
)
from tests.analysis.lenses.tiny_llm import N_LAYERS, V, tiny_llama

H, DH = 4, 4


class SpaceLetterTokenizer:
    """One token per character, except a space followed by a letter, which is one token."""

    tokens = [chr(i) for i in range(128)] + [" " + c for c in string.ascii_letters]

    def encode(self, text):
        ids, i = [], 0
        while i < len(text):
            pair = text[i : i + 2]
            ids.append(self.tokens.index(pair) if len(pair) == 2 and pair in self.tokens else ord(text[i]))
            i += len(self.tokens[ids[-1]])
        return SimpleNamespace(ids=ids)

    def decode(self, ids):
        return "".join(self.tokens[i] for i in ids)


@pytest.fixture(scope="module")
def model():
    return tiny_llama(n_ctx=16)


@pytest.fixture(scope="module")
def prompts():
    rng = np.random.default_rng(0)
    return rng.integers(0, V, (5, 9)).astype(np.int32), rng.integers(0, V, 5).astype(np.int32)


def _answer_prob(logits, answers):
    logp = jax.nn.log_softmax(np.asarray(logits, np.float64)[:, -1], -1)
    return np.exp(np.asarray(logp)[np.arange(len(answers)), answers])


def test_cie_of_every_head_against_full_passes_with_the_head_replaced(model, prompts):
    tokens, answers = prompts
    means = np.random.default_rng(1).normal(0, 1.0, (N_LAYERS, H, DH))
    cie = causal_indirect_effects(model, tokens, answers, means)
    logits, acts = model(tokens, capture=tuple(f"blocks.{l}.attn.z" for l in range(N_LAYERS)))
    plain = _answer_prob(logits, answers)
    for layer in (0, N_LAYERS - 1):  # one replace program per layer: the first and the last
        for h in range(H):
            z = np.array(acts[f"blocks.{layer}.attn.z"])
            z[:, -1, h] = means[layer, h]
            patched = _answer_prob(model(tokens, replace={f"blocks.{layer}.attn.z": z})[0], answers)
            assert cie[layer, h] == pytest.approx((patched - plain).mean(), abs=2e-6)
    assert np.abs(cie).max() > 1e-4  # the patch is not silently ignored
    assert top_heads(cie, 3)[0] == tuple(np.unravel_index(np.argmax(cie), cie.shape))


def test_added_vector_against_a_full_pass_with_the_residual_replaced(model, prompts):
    tokens, answers = prompts
    vector = np.random.default_rng(2).normal(0, 2.0, 16)
    p, top1 = added_vector_outputs(model, tokens, answers, vector)
    p, top1 = p[0], top1[0]
    logits, acts = model(tokens, capture=tuple(f"blocks.{l}.resid_pre" for l in range(N_LAYERS)))
    np.testing.assert_allclose(p[:, -1], _answer_prob(logits, answers), rtol=1e-4, atol=1e-7)
    np.testing.assert_array_equal(top1[:, -1], np.asarray(logits)[:, -1].argmax(-1))
    for layer in (0, N_LAYERS - 1):
        site = f"blocks.{layer}.resid_pre"
        h = np.array(acts[site])
        h[:, -1] += vector
        edited, _ = model(tokens, replace={site: h})
        np.testing.assert_allclose(p[:, layer], _answer_prob(edited, answers), rtol=1e-4, atol=1e-7)
        assert np.abs(p[:, layer] - p[:, -1]).max() > 1e-5  # the addition changes the output


def test_several_vectors_at_once_equal_one_at_a_time_and_random_directions_keep_the_norm(model, prompts):
    tokens, answers = prompts
    vector = np.random.default_rng(3).normal(0, 2.0, 16)
    randoms = random_directions(vector, 3, seed=0)
    np.testing.assert_allclose(np.linalg.norm(randoms, axis=1), np.linalg.norm(vector), rtol=1e-12)
    cosines = randoms @ randoms.T / np.linalg.norm(vector) ** 2
    assert np.abs(cosines[np.triu_indices(3, 1)]).max() < 0.99  # distinct directions
    p, top1 = added_vector_outputs(model, tokens, answers, np.vstack([vector, randoms]))
    assert p.shape == (4, len(tokens), N_LAYERS + 1)
    for k, v in enumerate([vector, *randoms]):
        p_one, top1_one = added_vector_outputs(model, tokens, answers, v)
        np.testing.assert_allclose(p[k], p_one[0], rtol=1e-5, atol=1e-8)
        np.testing.assert_array_equal(top1[k], top1_one[0])
    assert np.abs(p[1] - p[2]).max() > 1e-6  # different directions, different outputs


def test_head_outputs_through_their_output_projection_sum_to_attn_out(model, prompts):
    tokens, _ = prompts
    _, acts = model(tokens, capture=("blocks.1.attn.z", "blocks.1.attn_out"))
    means = mean_head_outputs(model, tokens)
    np.testing.assert_allclose(means[1], np.asarray(acts["blocks.1.attn.z"])[:, -1].mean(0), atol=1e-5)
    one = np.zeros((N_LAYERS, H, DH))
    one[1] = np.asarray(acts["blocks.1.attn.z"])[0, 3]
    vector = function_vector(model, one, [(1, h) for h in range(H)])
    np.testing.assert_allclose(vector, np.asarray(acts["blocks.1.attn_out"])[0, 3], atol=1e-5)


def test_tasks_and_prompts_follow_their_definitions():
    words = [
        "apple",
        "brick",
        "cloud",
        "drum",
        "eagle",
        "fern",
        "grape",
        "harp",
        "iris",
        "jade",
        "kite",
        "lamp",
        "mint",
        "nest",
    ]
    assert all(y == x.capitalize() for x, y in task_pairs("capitalize", words))
    assert all(y == x[-1] for x, y in task_pairs("last_letter", words))
    assert ("Sunday", "Saturday") in task_pairs("previous_item", words)
    assert ("Sunday", "Monday") not in task_pairs("next_item", words) and len(task_pairs("next_item", words)) == 28
    for x, y in task_pairs("choose_last_of_3", words, count=20):
        assert x.split(", ")[-1] == y and len(set(x.split(", "))) == 3
    tok = SpaceLetterTokenizer()
    task = TaskTokens.encode(tok, "first_letter", [(w, w[0]) for w in words] + [("Monday", "Tu")], min_pairs=9)
    assert task.size == 9 and task.inputs_NxI.shape[1] == 4  # 4-letter words (" d" + 3 letters) are the mode
    tokens, answers = prompt_set(task, 3, 4, seed=0)
    text = tok.decode(tokens[0].tolist())
    blocks = text.split("\n\n")
    assert len(blocks) == 5 and blocks[-1].startswith("Q: ") and blocks[-1].endswith("\nA:")
    for demo in blocks[:-1]:
        x, y = demo.removeprefix("Q: ").split("\nA: ")
        assert y == x[0]
    assert tok.decode([int(answers[0])]) == " " + blocks[-1][3]
    shuffled, _ = prompt_set(task, 3, 4, seed=0, shuffled=True)
    demos = [d.removeprefix("Q: ").split("\nA: ") for d in tok.decode(shuffled[0].tolist()).split("\n\n")[:-1]]
    assert sorted(y for _, y in demos) == sorted(x[0] for x, _ in demos) and any(y != x[0] for x, y in demos)
    assert DAYS[0] == "Monday"
