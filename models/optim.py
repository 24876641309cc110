"""Optimisers and learning-rate schedules from a `TrainConfig` (optax).

The peak learning rate is an injected hyperparameter held in the optimiser state, so an
ensemble can carry one learning rate per member through `vmap`.
"""

import optax

from models.config import TrainConfig


def make_schedule(tc: TrainConfig):
    """Multiplier of the peak learning rate as a function of the step (1.0 at the peak)."""
    warm = tc.warmup_steps
    decay_steps = max(tc.num_steps - warm, 1)
    if tc.schedule in ("constant", "warmup"):
        after = optax.constant_schedule(1.0)
    elif tc.schedule == "cosine":
        after = optax.cosine_decay_schedule(1.0, decay_steps, alpha=tc.final_lr_fraction)
    else:
        after = optax.linear_schedule(1.0, tc.final_lr_fraction, decay_steps)
    if warm == 0:
        return after
    return optax.join_schedules([optax.linear_schedule(0.0, 1.0, warm), after], [warm])


def make_optimizer(tc: TrainConfig, learning_rate=None) -> optax.GradientTransformation:
    """Clip, then adam / adamw / sgd(+momentum), scaled by `learning_rate * schedule(step)`.

    `learning_rate` (default `tc.learning_rate`) only sets the value stored by `init`; `update`
    reads it from the state.
    """
    unit = make_schedule(tc)

    def chain(learning_rate):
        parts = [optax.clip_by_global_norm(tc.grad_clip)] if tc.grad_clip is not None else []
        if tc.optimizer in ("adam", "adamw"):
            parts.append(optax.scale_by_adam(b1=tc.adam_b1, b2=tc.adam_b2))
        if tc.weight_decay > 0:
            parts.append(optax.add_decayed_weights(tc.weight_decay))
        if tc.optimizer == "sgd" and tc.momentum > 0:
            parts.append(optax.trace(decay=tc.momentum, nesterov=tc.nesterov))
        parts.append(optax.scale_by_learning_rate(lambda count: learning_rate * unit(count)))
        return optax.chain(*parts)

    lr = tc.learning_rate if learning_rate is None else learning_rate
    return optax.inject_hyperparams(chain)(learning_rate=lr)
