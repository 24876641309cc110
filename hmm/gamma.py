"""Gamma and Dirichlet draws on device: Marsaglia-Tsang rejection, vectorised, in log space.

`jax.random.dirichlet` is slow to compile and run on CPU; this sampler proposes for every entry at once
and repeats only until all have accepted (a handful of rounds: each proposal accepts with probability
above 0.95 for shape >= 1). Shapes below 1 use `G(a) = G(a + 1) U^(1/a)`, added in log space so that
small concentrations neither underflow nor divide by zero when normalised.
"""

from functools import partial

import jax
import jax.numpy as jnp


@partial(jax.jit, static_argnames=("shape",))
def log_gamma(key, alpha, shape: tuple):
    """`log G` with `G ~ Gamma(alpha, 1)` for every entry of `shape` (float32; alpha a scalar > 0)."""
    loop_key, boost_key = jax.random.split(key)
    a = alpha + jnp.where(alpha < 1.0, 1.0, 0.0)
    d = a - 1.0 / 3.0
    c = 1.0 / jnp.sqrt(9.0 * d)

    def propose(state):
        i, log_g, done = state
        u_2xshape = jax.random.uniform(jax.random.fold_in(loop_key, i), (2, *shape), minval=1e-38)
        x = jax.scipy.special.ndtri(u_2xshape[0])  # one random call per round keeps compilation short
        v = (1.0 + c * x) ** 3
        log_v = jnp.log(jnp.maximum(v, 1e-30))
        log_u = jnp.log(u_2xshape[1])
        ok = (v > 0) & (log_u < 0.5 * x * x + d - d * v + d * log_v)
        return i + 1, jnp.where(ok & ~done, jnp.log(d) + log_v, log_g), done | ok

    _, log_g, _ = jax.lax.while_loop(lambda s: ~jnp.all(s[2]), propose, (0, jnp.zeros(shape), jnp.zeros(shape, bool)))
    boost = jnp.log(jax.random.uniform(boost_key, shape, minval=1e-38)) / alpha
    return log_g + jnp.where(alpha < 1.0, boost, 0.0)


def dirichlet_rows(key, alpha, shape: tuple):
    """Probability vectors along the last axis of `shape`, each ~ Dirichlet(alpha, ..., alpha)."""
    return jax.nn.softmax(log_gamma(key, jnp.float32(alpha), tuple(shape)), axis=-1)
