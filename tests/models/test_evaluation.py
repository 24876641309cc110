"""Exact evaluation: oracle gets the optimum, uniform gets log V, and the tree agrees with Monte Carlo."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import hmm
from models import ModelConfig, Transformer, build_eval_set, evaluate

P = hmm.get_process("mess3", x=0.05, alpha=0.85)


class Oracle:
    """Outputs log of the Bayes predictive distribution computed by filtering the seen tokens."""

    def __init__(self, process, cfg):
        self.process, self.config = process, cfg

    def __call__(self, tokens_BxL):
        cfg = self.config
        seen = tokens_BxL[:, 1:] if cfg.bos else tokens_BxL
        beliefs = hmm.beliefs(self.process, seen)
        if cfg.bos:
            root = jnp.broadcast_to(
                jnp.asarray(self.process.stationary_distribution, jnp.float32),
                (tokens_BxL.shape[0], 1, self.process.num_states),
            )
            beliefs = jnp.concatenate([root, beliefs], axis=1)
        return jnp.log(hmm.predictive_distribution(self.process, beliefs)), {}


class Uniform:
    def __init__(self, cfg):
        self.config = cfg

    def __call__(self, tokens_BxL):
        return jnp.zeros(tokens_BxL.shape + (self.config.vocab_size,)), {}


@pytest.mark.parametrize("bos", [False, True])
def test_oracle_gets_relative_loss_one_and_zero_kl(bos):
    cfg = ModelConfig(vocab_size=3, n_ctx=6, bos=bos)
    result = evaluate(Oracle(P, cfg), P)
    assert result.exact
    assert result.relative_loss == pytest.approx(1.0, abs=2e-6)
    assert abs(result.kl) < 2e-6 and max(map(abs, result.kl_by_position)) < 5e-6
    h = hmm.myopic_entropy(P, 7)
    np.testing.assert_allclose(result.loss_by_position, h[:6] if bos else h[1:7], atol=5e-6)


def test_uniform_model_pays_log_v_everywhere():
    cfg = ModelConfig(vocab_size=3, n_ctx=5)
    result = evaluate(Uniform(cfg), P)
    np.testing.assert_allclose(result.loss_by_position, np.log(3), atol=1e-6)
    np.testing.assert_allclose(result.kl_by_position, np.log(3) - hmm.myopic_entropy(P, 6)[1:], atol=1e-6)


def test_exact_evaluation_matches_monte_carlo_of_realised_next_tokens():
    cfg = ModelConfig(vocab_size=3, n_layers=1, d_model=16, d_head=4, d_mlp=16, n_ctx=5)
    model = Transformer(cfg, rngs=nnx.Rngs(4))
    exact = evaluate(model, P)
    tokens, _ = hmm.sample(P, jax.random.key(11), 40000, cfg.n_ctx + 1)
    logits, _ = model(tokens[:, :-1])
    logp = jax.nn.log_softmax(logits)
    ce = -np.asarray(jnp.take_along_axis(logp, tokens[:, 1:, None], axis=-1)[..., 0], np.float64)
    mean, se = ce.mean(0), ce.std(0) / np.sqrt(len(ce))
    assert np.all(np.abs(np.asarray(exact.loss_by_position) - mean) < 5 * se), (exact.loss_by_position, mean, se)
    assert exact.loss > exact.optimal_loss and exact.kl > 0


def test_sampled_set_is_used_when_the_tree_is_too_big_and_agrees():
    cfg = ModelConfig(vocab_size=3, n_layers=1, d_model=16, d_head=4, d_mlp=16, n_ctx=5)
    model = Transformer(cfg, rngs=nnx.Rngs(4))
    sampled_set = build_eval_set(P, cfg, jax.random.key(1), max_exact=100, num_sampled=20000)
    assert not sampled_set.exact and sampled_set.num_sequences == 20000
    sampled, exact = evaluate(model, P, eval_set=sampled_set), evaluate(model, P)
    assert sampled.loss == pytest.approx(exact.loss, rel=5e-3)
    assert sampled.optimal_loss == pytest.approx(exact.optimal_loss, rel=5e-3)
    assert sampled.relative_loss == pytest.approx(exact.relative_loss, rel=5e-3)


def test_exact_set_weights_are_sequence_probabilities():
    cfg = ModelConfig(vocab_size=3, n_ctx=4, bos=True)
    s = build_eval_set(P, cfg, jax.random.key(0))
    assert s.exact and s.num_sequences == 3**3 and s.inputs.shape == (27, 4)
    assert s.weights.sum() == pytest.approx(1.0) and np.all(s.inputs[:, 0] == 3)
    np.testing.assert_allclose(s.predictive.sum(-1), 1.0, atol=1e-6)
    logp = hmm.sequence_log_prob(P, s.inputs[:, 1:])
    np.testing.assert_allclose(s.weights, np.exp(logp), rtol=1e-4)
