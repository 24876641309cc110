"""The untrained control of a pretrained model: the same architecture with the values of each parameter array
shuffled (every matrix, vector and stacked array permuted on its own), so each keeps its exact set of values
(scale, sparsity, quantisation levels) while losing every learned arrangement."""

import jax
import numpy as np
from flax import nnx

from models.keys import numpy_rng


def permuted_weights(model, seed: int = 0):
    """A copy of the NNX `model` whose every parameter array (`nnx.Param`) holds its own values in a random order;
    other state (buffers, caches) is kept."""
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    rng = numpy_rng(seed, "llm_permuted_weights")

    def shuffle(leaf):
        array = np.asarray(leaf)
        if array.size < 2 or not np.issubdtype(array.dtype, np.floating):
            return leaf
        return jax.numpy.asarray(rng.permutation(array.reshape(-1)).reshape(array.shape), dtype=array.dtype)

    return nnx.merge(graphdef, jax.tree.map(shuffle, params), rest)
