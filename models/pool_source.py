"""Training data of `markov_pool` processes as arrays, so that members training on different pools (e.g. pool
sizes) share one compiled, vmapped step: each pool is padded to the largest with chains of zero probability."""

from dataclasses import dataclass

import jax
import numpy as np

import hmm
from models.config import ConfigError


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class PoolSource:
    """A pool of chains as a data source (`sample(key, batch_size, seq_len) -> tokens`): cumulative chain
    probabilities `[M]` (padding repeats the total) and transition matrices `[M, V, V]`; a pytree, so stacked
    sources `[E, M]`, `[E, M, V, V]` vmap over members."""

    chain_cdf_M: jax.Array
    matrices_MxVxV: jax.Array

    def sample(self, key, batch_size: int, seq_len: int):
        return self.sample_with_chains(key, batch_size, seq_len)[0]

    def sample_with_chains(self, key, batch_size: int, seq_len: int):
        """Tokens `[B, L]` int32 and the chain index `[B]` of each sequence."""
        return hmm.draw_from_pool(key, self.chain_cdf_M, self.matrices_MxVxV, batch_size, seq_len)


def is_pool(process) -> bool:
    return isinstance(process, hmm.Process) and process.name == "markov_pool"


def pool_source(process, num_chains: int | None = None) -> PoolSource:
    """The pool of a `markov_pool` process, padded to `num_chains` chains (uniform rows, never drawn)."""
    matrices = hmm.markov_pool_matrices(process)
    M, V = matrices.shape[:2]
    size = M if num_chains is None else int(num_chains)
    padding = np.full((max(size - M, 0), V, V), 1.0 / V)
    cdf = hmm.pool_chain_cdf(np.zeros(M), size)  # markov_pool weighs its chains uniformly
    return PoolSource(cdf, np.concatenate([matrices, padding]).astype(np.float32))


def training_source(process):
    """What training batches are drawn from: a `markov_pool` process's pool (sampled without building the
    mixture's M (V + 1) states; the same distribution), else the process itself."""
    return pool_source(process) if is_pool(process) else process


def check_pool_members(processes) -> None:
    """Members may train on different processes only if all are `markov_pool` with one vocabulary; else a
    ConfigError naming the offending member."""
    for i, process in enumerate(processes):
        if not is_pool(process):
            name = getattr(process, "name", type(process).__name__)
            raise ConfigError(
                f"processes[{i}] = {name!r} is invalid: members can differ in their process only when every "
                "process is a markov_pool (pools of Markov chains)"
            )
    sizes = sorted({p.vocab_size for p in processes})
    if len(sizes) > 1:
        raise ConfigError(
            f"process.params.vocab_size differs between members ({sizes}): members must share one vocabulary"
        )


def stacked_pool_sources(processes) -> PoolSource:
    """Every member's pool padded to the largest: arrays `[E, M_max]` and `[E, M_max, V, V]` (NumPy)."""
    check_pool_members(processes)
    size = max(int(p.param_dict["num_chains"]) for p in processes)
    sources = [pool_source(p, size) for p in processes]
    return jax.tree.map(lambda *a: np.stack(a), *sources)
