"""Non-ergodic mixtures: each sequence comes from one component, drawn once from a stated prior (the weights)."""

import jax
import jax.numpy as jnp
import numpy as np

from hmm.errors import ProcessError
from hmm.process import Process

WEIGHT_TOL = 1e-6
MAX_MATRIX_BYTES = 2 * 2**30  # the dense block-diagonal [V, S, S] a mixture may hold


def check_weights(weights, num_components: int, field: str = "weights") -> np.ndarray:
    """Return `weights` as float64 `[M]`, or raise naming the length, a negative entry or the sum."""
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise ProcessError(f"{field}={weights!r} must be a list of {num_components} numbers") from None
    if w.shape != (num_components,):
        raise ProcessError(
            f"{field} must hold one number per component ({num_components}), "
            f"got shape {list(w.shape)}: {np.asarray(weights).tolist()}"
        )
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        bad = int(np.flatnonzero(~np.isfinite(w) | (w < 0))[0])
        raise ProcessError(f"{field}[{bad}]={float(w[bad])!r} is invalid: weights must be finite and non-negative")
    if abs(w.sum() - 1.0) > WEIGHT_TOL:
        raise ProcessError(f"{field} must sum to 1 (tolerance {WEIGHT_TOL}), got sum {w.sum():.8g}: {w.tolist()}")
    return w / w.sum()


def _check_components(components) -> list[Process]:
    components = list(components) if isinstance(components, (list, tuple)) else None
    if not components:
        raise ProcessError("components must be a non-empty list of processes")
    for m, c in enumerate(components):
        if not isinstance(c, Process):
            raise ProcessError(f"components[{m}] must be a Process (e.g. from hmm.get_process), got {type(c).__name__}")
        if c.is_mixture:
            raise ProcessError(
                f"components[{m}] is itself a mixture; list its components instead (with weights multiplied out)"
            )
        if c.vocab_size != components[0].vocab_size:
            raise ProcessError(
                f"components must share one vocabulary: components[{m}] has V={c.vocab_size}, "
                f"components[0] has V={components[0].vocab_size}"
            )
    return components


def _block_diagonal(mats: list[np.ndarray]) -> np.ndarray:
    """`[V, S_m, S_m]` per component -> `[V, S, S]` with the components on the diagonal."""
    sizes = [m.shape[-1] for m in mats]
    stops = np.cumsum(sizes)
    out = np.zeros((mats[0].shape[0], stops[-1], stops[-1]))
    for mat, stop, size in zip(mats, stops, sizes):
        out[:, stop - size : stop, stop - size : stop] = mat
    return out


def mixture(components, weights=None, *, name: str = "mixture", params: dict | None = None) -> Process:
    """A process that picks component m with probability `weights[m]` (default uniform) once per sequence.

    The transition matrices are block-diagonal (component m's states are block m, see `Process.blocks`);
    the initial belief is `weights[m] * eta0_m` on block m, `eta0_m` being component m's initial belief.
    Beliefs are posteriors over (component, state); `component_posterior` gives their component marginal.
    `stationary_distribution` holds the weights' mix of the components' stationary distributions (one
    of many: the process is not ergodic). Components must share one vocabulary and not be mixtures;
    generalized HMM components work (`w` is the concatenation of theirs).
    `name`/`params` override how the mixture is named (e.g. a pool of Markov chains).
    """
    components = _check_components(components)
    M = len(components)
    weights = np.full(M, 1.0 / M) if weights is None else check_weights(weights, M)
    V, S = components[0].vocab_size, sum(c.num_states for c in components)
    if V * S * S * 8 > MAX_MATRIX_BYTES:
        raise ProcessError(
            f"a mixture of {M} components with {S} states in all needs {V * S * S * 8 / 2**30:.1f} GiB"
            f" of transition matrices (limit {MAX_MATRIX_BYTES / 2**30:.0f} GiB); use fewer components"
            " (for a large pool of Markov chains use hmm.sample_pool and hmm.pool_predictive)"
        )

    def stacked(attr, scale=False):
        return np.concatenate([getattr(c, attr) * (w if scale else 1.0) for c, w in zip(components, weights)])

    if params is None:
        params = dict(components=tuple((c.name, c.params) for c in components), weights=tuple(weights.tolist()))
    return Process(
        transition_matrices=_block_diagonal([c.transition_matrices for c in components]),
        right_vector=stacked("right_vector"),
        stationary_distribution=stacked("stationary_distribution", scale=True),
        initial_belief=stacked("initial_belief", scale=True),
        name=name,
        params=tuple(sorted(params.items())),
        is_generalized=any(c.is_generalized for c in components),
        component_sizes=tuple(c.num_states for c in components),
    )


def mixture_weights(process: Process) -> np.ndarray:
    """The prior over components `[M]` (the initial belief's component marginal; `[1.]` if not a mixture)."""
    return component_posterior(process, process.initial_belief)


def component_posterior(process: Process, beliefs):
    """P(component | tokens so far): the component marginal of beliefs, `[..., S] -> [..., M]`.

    Numpy in, numpy out; JAX in, JAX out. For a process that is not a mixture, M = 1 and the result is 1.
    A generalized HMM component's share is `eta_m . w_m`, which for an HMM is the sum over its states.
    """
    xp = jnp if isinstance(beliefs, jax.Array) else np
    indicator_SxM = np.zeros((process.num_states, max(len(process.component_sizes), 1)))
    for m, (start, stop) in enumerate(process.blocks):
        indicator_SxM[start:stop, m] = process.right_vector[start:stop]
    share = beliefs @ xp.asarray(indicator_SxM, beliefs.dtype)
    return share / share.sum(axis=-1, keepdims=True)
