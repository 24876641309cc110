"""The untrained control of a pretrained model: the same architecture with the values inside each weight matrix
shuffled, so each matrix keeps its exact set of values (scale, sparsity, quantisation levels) while losing every
learned arrangement.

A matrix is one parameter array, or one layer's slice of an array that stacks the layers (a model that runs its
blocks under `scan` stores `blocks.*` with a leading layer axis): the control is the same in either layout.
"""

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from models.keys import numpy_rng


def permute_each_matrix(array: np.ndarray, rng: np.random.Generator, stacked: bool = False) -> np.ndarray:
    """`array` with its values in a random order; `stacked`: each slice along the first axis on its own."""
    array = np.asarray(array)
    if not stacked:
        return rng.permutation(array.reshape(-1)).reshape(array.shape)
    return rng.permuted(array.reshape(len(array), -1), axis=1).reshape(array.shape)


def _is_layer_stack(path, array: np.ndarray, n_layers: int | None) -> bool:
    """An array under `blocks` with no layer index in its path and a leading axis of one entry per layer."""
    keys = [getattr(k, "key", getattr(k, "idx", None)) for k in path]
    return (
        n_layers is not None
        and bool(keys)
        and keys[0] == "blocks"
        and not isinstance(keys[1], int)
        and array.ndim >= 2
        and array.shape[0] == n_layers
    )


def permuted_weights(model, seed: int = 0):
    """A copy of the NNX `model` whose every weight matrix (`nnx.Param`) holds its own values in a random order;
    other state (buffers, caches) is kept."""
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    rng = numpy_rng(seed, "llm_permuted_weights")
    n_layers = getattr(getattr(model, "config", None), "n_layers", None)

    def shuffle(path, leaf):
        array = np.asarray(leaf)
        if array.size < 2 or not np.issubdtype(array.dtype, np.floating):
            return leaf
        stacked = _is_layer_stack(path, array, n_layers)
        return jnp.asarray(permute_each_matrix(array, rng, stacked), dtype=array.dtype)

    return nnx.merge(graphdef, jax.tree_util.tree_map_with_path(shuffle, params), rest)
