"""Batch alignment (docs/design.md) and optimiser/schedule arithmetic against hand calculations."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import hmm
from models import ModelConfig, TrainConfig, make_optimizer, make_schedule, position_beliefs, sample_batch

P = hmm.get_process("mess3", x=0.05, alpha=0.85)


def test_without_bos_position_t_predicts_the_next_token():
    cfg = ModelConfig(vocab_size=3, n_ctx=6)
    key = jax.random.key(3)
    inputs, targets = sample_batch(P, key, 8, cfg)
    tokens, _ = hmm.sample(P, key, 8, 7)
    assert inputs.shape == targets.shape == (8, 6)
    np.testing.assert_array_equal(inputs, tokens[:, :6])
    np.testing.assert_array_equal(targets, tokens[:, 1:])


def test_with_bos_position_0_predicts_the_first_token():
    cfg = ModelConfig(vocab_size=3, n_ctx=6, bos=True)
    inputs, targets = sample_batch(P, jax.random.key(3), 8, cfg)
    assert inputs.shape == targets.shape == (8, 6)
    assert np.all(inputs[:, 0] == 3) and np.all(np.asarray(targets) < 3)
    np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])
    beliefs = np.random.default_rng(0).dirichlet(np.ones(3), size=(8, 5))
    aligned = position_beliefs(beliefs, P.stationary_distribution, cfg)
    np.testing.assert_array_equal(aligned[:, 0], np.broadcast_to(P.stationary_distribution, (8, 3)))
    np.testing.assert_array_equal(aligned[:, 1:], beliefs)


def test_schedules_match_their_formulas():
    base = dict(num_steps=110, warmup_steps=10, final_lr_fraction=0.2)
    warm = make_schedule(TrainConfig(schedule="warmup", **base))
    assert float(warm(0)) == 0.0 and float(warm(5)) == pytest.approx(0.5) and float(warm(100)) == 1.0
    cos = make_schedule(TrainConfig(schedule="cosine", **base))
    assert float(cos(10)) == pytest.approx(1.0)
    assert float(cos(60)) == pytest.approx(0.2 + 0.8 * 0.5, abs=1e-6)  # half way: cos(pi/2) = 0
    assert float(cos(110)) == pytest.approx(0.2)
    lin = make_schedule(TrainConfig(schedule="linear", **base))
    assert float(lin(60)) == pytest.approx(0.6) and float(lin(110)) == pytest.approx(0.2)
    assert float(make_schedule(TrainConfig(schedule="constant", warmup_steps=0))(7)) == 1.0


def _updates(tc, grads, params, n=1, learning_rate=None):
    tx = make_optimizer(tc, learning_rate)
    state = tx.init(params)
    out = []
    for _ in range(n):
        u, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, u)
        out.append(u)
    return out, params


def test_sgd_momentum_is_heavy_ball():
    tc = TrainConfig(
        optimizer="sgd", learning_rate=0.1, momentum=0.9, schedule="constant", warmup_steps=0, grad_clip=None
    )
    g = {"w": jnp.array([1.0, -2.0])}
    (u1, u2), _ = _updates(tc, g, {"w": jnp.zeros(2)}, n=2)
    np.testing.assert_allclose(u1["w"], -0.1 * g["w"], rtol=1e-6)
    np.testing.assert_allclose(u2["w"], -0.1 * 1.9 * g["w"], rtol=1e-6)


def test_clipping_scales_to_the_global_norm():
    tc = TrainConfig(
        optimizer="sgd", learning_rate=1.0, momentum=0.0, schedule="constant", warmup_steps=0, grad_clip=1.0
    )
    g = {"a": jnp.array([6.0]), "b": jnp.array([8.0])}  # global norm 10
    (u,), _ = _updates(tc, g, {"a": jnp.zeros(1), "b": jnp.zeros(1)})
    np.testing.assert_allclose([u["a"][0], u["b"][0]], [-0.6, -0.8], rtol=1e-6)


def test_adam_first_step_and_adamw_decay():
    tc = TrainConfig(optimizer="adam", learning_rate=0.01, schedule="constant", warmup_steps=0, grad_clip=None)
    (u,), _ = _updates(tc, {"w": jnp.array([3.0, -0.5])}, {"w": jnp.zeros(2)})
    np.testing.assert_allclose(u["w"], [-0.01, 0.01], rtol=1e-4)  # bias-corrected m / sqrt(v) = sign(g)
    tcw = tc.replace(optimizer="adamw", weight_decay=0.5)
    (u,), _ = _updates(tcw, {"w": jnp.zeros(2)}, {"w": jnp.array([2.0, -4.0])})
    np.testing.assert_allclose(u["w"], [-0.01 * 0.5 * 2.0, 0.01 * 0.5 * 4.0], rtol=1e-5)


def test_injected_learning_rate_overrides_the_config():
    tc = TrainConfig(
        optimizer="sgd", learning_rate=0.1, momentum=0.0, schedule="constant", warmup_steps=0, grad_clip=None
    )
    (u,), _ = _updates(tc, {"w": jnp.ones(1)}, {"w": jnp.zeros(1)}, learning_rate=0.5)
    np.testing.assert_allclose(u["w"], [-0.5], rtol=1e-6)
