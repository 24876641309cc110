"""Cached sampling from a pretrained decoder: its logits are the full forward pass's on the sampled sequence,
prompts are kept, and draws follow softmax(logits / temperature) (frequencies over many draws)."""

import jax
import numpy as np
import pytest

from models.config import ConfigError
from models.pretrained.generate import sample_continuations
from tests.analysis.lenses.tiny_llm import tiny_llama


@pytest.fixture(scope="module")
def model():
    return tiny_llama(n_ctx=16)


def test_cached_logits_are_the_full_forward_pass(model):
    prompts = np.array([[3, 7, 9], [200, 1, 4]])
    tokens, logits = sample_continuations(model, prompts, 12, jax.random.key(0), return_logits=True)
    assert tokens.shape == (2, 12) and np.array_equal(tokens[:, :3], prompts)
    full, _ = model(tokens)
    np.testing.assert_allclose(logits, np.asarray(full)[:, :-1], atol=2e-4 * np.abs(full).max())


@pytest.mark.parametrize("temperature", [1.0, pytest.param(0.5, marks=pytest.mark.slow)])
def test_draws_follow_the_tempered_softmax(model, temperature):
    prompts = np.tile([[5, 6]], (4000, 1))
    tokens, logits = sample_continuations(model, prompts, 3, jax.random.key(1), temperature, return_logits=True)
    z = logits[0, 1] / temperature
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    freq = np.bincount(tokens[:, 2], minlength=len(p)) / len(tokens)
    assert np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / len(tokens)) + 1e-3)


def test_bad_arguments_are_one_line_errors(model):
    with pytest.raises(ConfigError, match="length=20"):
        sample_continuations(model, np.array([[1, 2]]), 20, jax.random.key(0))
    with pytest.raises(ConfigError, match="temperature=0"):
        sample_continuations(model, np.array([[1, 2]]), 4, jax.random.key(0), temperature=0)
