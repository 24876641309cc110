"""The frozen readout of a model (`logits_from_residual`) as a pure function `(state, h_NxD) -> logits_NxV`."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx


@lru_cache(maxsize=16)
def _nnx_readout(graphdef) -> Callable:
    def apply(state, h_NxD):
        return nnx.merge(graphdef, state).logits_from_residual(h_NxD)

    return apply


@dataclass(frozen=True, eq=False)
class Readout:
    """`apply(state, h_NxD) -> logits_NxV`, pure and jit-able; `state` is passed to jitted code as an argument.

    `Readout.from_model(model)`: the model's `logits_from_residual` (an NNX module is split once, so its weights
    stay arguments, never baked-in constants). `Readout.from_function(f)`: any `h_NxD -> logits_NxV`.
    """

    apply: Callable
    state: Any = None

    @classmethod
    def from_model(cls, model) -> "Readout":
        if not hasattr(model, "logits_from_residual"):
            raise TypeError(f"{type(model).__name__} has no logits_from_residual(h): it cannot be lensed")
        if isinstance(model, nnx.Module):
            graphdef, state = nnx.split(model)
            return cls(_nnx_readout(graphdef), state)
        return cls.from_function(model.logits_from_residual)

    @classmethod
    def from_function(cls, fn: Callable) -> "Readout":
        return cls(_ignore_state(fn), None)

    def log_probs(self, state, h_NxD):
        """Log-softmax of the readout, in float32; any leading axes are flattened through the readout."""
        lead = h_NxD.shape[:-1]
        logits = self.apply(state, h_NxD.reshape(-1, h_NxD.shape[-1]))
        return jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1).reshape(*lead, logits.shape[-1])


@lru_cache(maxsize=64)
def _ignore_state(fn: Callable) -> Callable:
    return lambda state, h_NxD: fn(h_NxD)
