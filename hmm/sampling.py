"""Sampling and filtering in JAX: tokens with posterior beliefs, beliefs for given tokens, log-probabilities.

Alignment (docs/design.md): `beliefs[:, t]` is the posterior after seeing `x_0..x_t`, never the prior.
Beliefs are normalised so `eta . w = 1` (a probability vector for an HMM).
"""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from hmm.errors import ProcessError
from hmm.process import Process


def _arrays(process: Process):
    """`T`, `w` and the initial belief (where every sequence starts) as float32."""
    T = jnp.asarray(process.transition_matrices, jnp.float32)
    w = jnp.asarray(process.right_vector, jnp.float32)
    eta0 = jnp.asarray(process.initial_belief, jnp.float32)
    return T, w, eta0


def _joint(T_VxSxS, w_S, eta_S):
    """For one belief: unnormalised next beliefs per token `[V, S]` and token probabilities `[V]`."""
    next_VxS = jnp.einsum("s,vst->vt", eta_S, T_VxSxS)
    return next_VxS, next_VxS @ w_S


def predictive_distribution(process: Process, beliefs):
    """Bayes next-token distribution `P(x | eta)`: `[..., S] -> [..., V]` (numpy or JAX in, same out)."""
    T, w = process.transition_matrices, process.right_vector
    xp = jnp if isinstance(beliefs, jax.Array) else __import__("numpy")
    Tw_SxV = xp.einsum("vst,t->sv", xp.asarray(T, beliefs.dtype), xp.asarray(w, beliefs.dtype))
    unnorm = beliefs @ Tw_SxV
    return unnorm / (beliefs @ xp.asarray(w, beliefs.dtype))[..., None]


UNROLL_LIMIT = 256  # processes with at most this many V*S*S entries within blocks use the unrolled sampler step


def _draw(u_B, p_list):
    """Token index from uniforms and (unnormalised) token probabilities, one `[B]` array per token."""
    r_B = u_B * sum(p_list)
    x_B, c_B = jnp.zeros(u_B.shape, jnp.int32), p_list[0]
    for p_B in p_list[1:]:
        x_B, c_B = x_B + (r_B > c_B).astype(jnp.int32), c_B + p_B
    return x_B


def _select(x_B, values):
    """`values[x_B]` elementwise, from one `[B]` array per token, as a chain of selects."""
    out = values[-1]
    for v in range(len(values) - 2, -1, -1):
        out = jnp.where(x_B == v, values[v], out)
    return out


def _token_probs(Tw_VxS, eta) -> list:
    """`P(x | eta)` unnormalised, one `[B]` array per token, from the belief as one `[B]` array per state."""
    V, S = Tw_VxS.shape
    return [sum(eta[s] * Tw_VxS[v, s] for s in range(S)) for v in range(V)]


def _step_unrolled(blocks, T, Tw_VxS, carry, u_B):
    """Small processes: scalar-times-vector arithmetic over the batch, which XLA fuses into loops.

    The carry holds the belief, the token already drawn from it and that token's probability: the step
    updates by that token, then draws the next. Each of the S output coordinates then depends on a token
    the loop has materialised, so XLA does not fuse the draw into (and repeat it in) every output.
    `blocks` are the `(start, stop)` state ranges of a mixture's components; entries between blocks are
    zero and skipped.
    """
    eta, x_B, p_x_B = carry
    V, S = T.shape[0], T.shape[1]
    block_of = [next(b for b in blocks if b[0] <= t < b[1]) for t in range(S)]
    inv_norm_B = 1.0 / p_x_B
    eta = tuple(
        sum(eta[s] * _select(x_B, [T[v, s, t] for v in range(V)]) for s in range(*block_of[t])) * inv_norm_B
        for t in range(S)
    )
    p = _token_probs(Tw_VxS, eta)
    next_B = _draw(u_B, p)
    return (eta, next_B, _select(next_B, p)), (x_B, jnp.stack(eta, axis=-1))


def _first_draw(Tw_VxS, eta0, u_B):
    """The unrolled sampler's initial carry: the initial belief, x_0 drawn from it, and P(x_0)."""
    p = _token_probs(Tw_VxS, eta0)
    x_B = _draw(u_B, p)
    return eta0, x_B, _select(x_B, p)


def _step_dense(T, w, eta_BxS, u_B):
    """Large processes: one batched matrix product per step."""
    next_BxVxS = jnp.einsum("bs,vst->bvt", eta_BxS, T)
    p_BxV = next_BxVxS @ w
    x_B = _draw(u_B, list(p_BxV.T))
    eta_BxS = jnp.take_along_axis(next_BxVxS, x_B[:, None, None], axis=1)[:, 0]
    eta_BxS = eta_BxS / jnp.take_along_axis(p_BxV, x_B[:, None], axis=1)
    return eta_BxS, (x_B, eta_BxS)


def _check_size(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ProcessError(f"{name}={value!r} is invalid: must be a positive integer")


def check_token_array(tokens_BxL, vocab_size: int, owner: str) -> None:
    """Concrete tokens must be integers in 0..V-1 (traced ones, inside a caller's jit, are not checked)."""
    if isinstance(tokens_BxL, jax.core.Tracer):
        return
    tokens = np.asarray(tokens_BxL)
    if tokens.ndim != 2:
        raise ProcessError(f"tokens must be a [batch, length] array, got shape {tokens.shape}")
    if not np.issubdtype(tokens.dtype, np.integer):
        raise ProcessError(f"tokens must be integers in 0..{vocab_size - 1}, got dtype {tokens.dtype}")
    if tokens.size and (tokens.min() < 0 or tokens.max() >= vocab_size):
        bad = tokens.min() if tokens.min() < 0 else tokens.max()
        raise ProcessError(f"tokens hold {bad}, outside the vocabulary of {owner!r}: allowed 0..{vocab_size - 1}")


def _check_tokens(process: Process, tokens_BxL) -> None:
    check_token_array(tokens_BxL, process.vocab_size, process.name)


def sample(process: Process, key, batch_size: int, seq_len: int):
    """Sample `tokens [B, L]` int32 and posterior `beliefs [B, L, S]` float32, starting from the initial belief.

    Works for generalized HMMs and mixtures too, since the sampler carries the belief rather than a
    hidden state (a mixture's sequences each come from one component, drawn from its weights).
    """
    _check_size("batch_size", batch_size)
    _check_size("seq_len", seq_len)
    return _sample(process, key, int(batch_size), int(seq_len))


@partial(jax.jit, static_argnames=("batch_size", "seq_len"))
def _sample(process: Process, key, batch_size: int, seq_len: int):
    T, w, eta0_S = _arrays(process)
    u_LxB = jax.random.uniform(key, (seq_len, batch_size))
    V, S, blocks = T.shape[0], T.shape[1], process.blocks
    if V * sum((stop - start) ** 2 for start, stop in blocks) <= UNROLL_LIMIT:
        Tw_VxS = T @ w
        carry = _first_draw(Tw_VxS, tuple(jnp.full((batch_size,), eta0_S[s]) for s in range(S)), u_LxB[0])
        # step t uses u[t + 1] for the token after it; the last step's draw (with u[0] again) is discarded
        step, u_LxB = partial(_step_unrolled, blocks, T, Tw_VxS), jnp.roll(u_LxB, -1, axis=0)
    else:
        step, carry = partial(_step_dense, T, w), jnp.broadcast_to(eta0_S, (batch_size, S))
    _, (tokens_LxB, beliefs_LxBxS) = jax.lax.scan(step, carry, u_LxB)
    return tokens_LxB.T, beliefs_LxBxS.transpose(1, 0, 2)


def _filter_one(T, w, eta0, tokens_L):
    def step(eta_S, x):
        next_VxS, p_V = _joint(T, w, eta_S)
        eta = next_VxS[x] / p_V[x]
        return eta, (eta, jnp.log(p_V[x]))

    _, (beliefs_LxS, logp_L) = jax.lax.scan(step, eta0, tokens_L)
    return beliefs_LxS, logp_L


def filter_sequences(process: Process, tokens_BxL):
    """Sequential filter: posterior beliefs `[B, L, S]` and `log P(x_t | x_<t)` `[B, L]`."""
    _check_tokens(process, tokens_BxL)
    return _filter_sequences(process, tokens_BxL)


@jax.jit
def _filter_sequences(process: Process, tokens_BxL):
    T, w, eta0 = _arrays(process)
    return jax.vmap(_filter_one, in_axes=(None, None, None, 0))(T, w, eta0, jnp.asarray(tokens_BxL))


def filter_sequences_parallel(process: Process, tokens_BxL):
    """Associative-scan filter (depth log L): the same beliefs as `filter_sequences` for long sequences.

    Prefix products `T[x_0] ... T[x_t]` are combined pairwise and rescaled to stay in range.
    """
    _check_tokens(process, tokens_BxL)
    return _filter_sequences_parallel(process, tokens_BxL)


@jax.jit
def _filter_sequences_parallel(process: Process, tokens_BxL):
    T, w, eta0 = _arrays(process)
    mats_BxLxSxS = T[jnp.asarray(tokens_BxL)]

    def combine(a, b):
        prod = a @ b
        return prod / jnp.max(jnp.abs(prod), axis=(-2, -1), keepdims=True)

    prefix = jax.lax.associative_scan(combine, mats_BxLxSxS, axis=1)
    unnorm_BxLxS = jnp.einsum("s,blst->blt", eta0, prefix)
    return unnorm_BxLxS / (unnorm_BxLxS @ w)[..., None]


def beliefs(process: Process, tokens_BxL, parallel: bool = False):
    """Posterior beliefs `[B, L, S]` for given tokens, aligned as `sample` returns them."""
    if parallel:
        return filter_sequences_parallel(process, tokens_BxL)
    return filter_sequences(process, tokens_BxL)[0]


def sequence_log_prob(process: Process, tokens_BxL):
    """Log-probability (nats) of each whole sequence, starting from the initial belief: `[B]`."""
    return filter_sequences(process, tokens_BxL)[1].sum(axis=-1)
