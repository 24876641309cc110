"""The one training step: sample a batch on device, take a gradient step; k of them under `lax.scan`.

Single runs jit `make_train_steps(...)` directly, ensembles vmap it over (state, data key), and
data parallelism passes a batch sharding that constrains the sampled batch.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from models.config import ModelConfig, TrainConfig
from models.data import cross_entropy, sample_batch, split_batch
from models.optim import make_optimizer
from models.pool_source import training_source
from models.transformer import Transformer


class TrainState(NamedTuple):
    """Everything that changes during training: parameters (pure dict), optimiser state, step."""

    params: Any
    opt_state: Any
    step: jax.Array  # int32 scalar: steps taken so far


def graphdef_of(cfg: ModelConfig):
    """The static structure of a `Transformer` (no parameters are materialised)."""
    return nnx.split(nnx.eval_shape(lambda: Transformer(cfg, rngs=nnx.Rngs(0))))[0]


def init_params(cfg: ModelConfig, init_key):
    """Freshly initialised parameters as a pure dict of arrays (jittable and vmappable)."""
    return nnx.to_pure_dict(nnx.state(Transformer(cfg, rngs=nnx.Rngs(params=init_key))))


def state_from_params(params, tc: TrainConfig, learning_rate=None) -> TrainState:
    """Step 0: these parameters and a fresh optimiser state with the given peak learning rate."""
    return TrainState(params, make_optimizer(tc, learning_rate).init(params), jnp.zeros((), jnp.int32))


def init_state(cfg: ModelConfig, tc: TrainConfig, init_key, learning_rate=None) -> TrainState:
    """Parameters from `init_key` and a fresh optimiser state with the given peak learning rate."""
    return state_from_params(init_params(cfg, init_key), tc, learning_rate)


def merge(graphdef, params):
    """A `Transformer` from its graphdef and pure-dict parameters."""
    return nnx.merge(graphdef, params)


def batch_loss(params, graphdef, inputs_BxL, targets_BxL, microbatches: int = 1):
    """Mean next-token cross-entropy (nats) of the batch, computed as independent equal parts."""
    model = merge(graphdef, params)
    parts = split_batch(microbatches, inputs_BxL, targets_BxL)
    return sum(cross_entropy(model(x)[0], y).mean() for x, y in parts) / microbatches


def make_train_steps(
    process, cfg: ModelConfig, tc: TrainConfig, num_steps: int, batch_sharding=None, microbatches: int = 1
):
    """`run(state, data_key, source=None) -> (state, losses[num_steps])`: `num_steps` steps under `lax.scan`.

    Batches come from `source` when given (a pytree data source such as `PoolSource`, so members of an
    ensemble can each pass their own), else from `training_source(process)`. Step s draws its batch from
    `fold_in(data_key, s)`, so the result does not depend on how the steps are grouped into calls.
    """
    graphdef = graphdef_of(cfg)
    tx = make_optimizer(tc)
    default_source = training_source(process) if process is not None else None

    def run(state: TrainState, data_key, source=None):
        source = default_source if source is None else source

        def step(state: TrainState, _):
            key = jax.random.fold_in(data_key, state.step)
            inputs_BxL, targets_BxL = sample_batch(source, key, tc.batch_size, cfg)
            if batch_sharding is not None:
                inputs_BxL = jax.lax.with_sharding_constraint(inputs_BxL, batch_sharding)
                targets_BxL = jax.lax.with_sharding_constraint(targets_BxL, batch_sharding)
            loss, grads = jax.value_and_grad(batch_loss)(state.params, graphdef, inputs_BxL, targets_BxL, microbatches)
            updates, opt_state = tx.update(grads, state.opt_state, state.params)
            return TrainState(optax.apply_updates(state.params, updates), opt_state, state.step + 1), loss

        return jax.lax.scan(step, state, length=num_steps)

    return run


def abstract_state(cfg: ModelConfig, tc: TrainConfig, num_members: int | None = None, sharding=None):
    """Shapes, dtypes and `sharding` of a `TrainState` (stacked over members) without computing it."""

    def one(key_data, lr):
        return init_state(cfg, tc, jax.random.wrap_key_data(key_data), lr)

    kd = jax.random.key_data(jax.random.key(0))
    lead = () if num_members is None else (num_members,)
    fn = one if num_members is None else jax.vmap(one)
    shapes = jax.eval_shape(
        fn, jax.ShapeDtypeStruct(lead + kd.shape, kd.dtype), jax.ShapeDtypeStruct(lead, jnp.float32)
    )
    return jax.tree.map(lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=sharding), shapes)
