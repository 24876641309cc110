"""A network built by hand on the shared model interface: its residual is an affine function of the belief, and its
output is the Bayes prediction of the belief decoded from the last residual site.

Sites: `embed` (token one-hots, unused downstream), `blocks.0.resid_pre` = `A eta_t + c` with `eta_t` the exact
posterior after `x_0..x_t`, `blocks.0.resid_mid` = `resid_pre`, `blocks.0.resid_post[t]` = `A eta'_t + c` where
`eta'_t` is the belief decoded from `resid_mid[t-1]` (the stationary belief at t = 0) updated by `x_t`, and
`ln_final` = `resid_post`. Unpatched it is Bayes-optimal; patching `resid_mid` at t changes the output at t + 1
only, exactly as the donor's belief carried one token further would.
"""

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np

import hmm
from models.arrays import lift


class BayesMachine:
    def __init__(self, process: hmm.Process, n_ctx: int, d_model: int = 8, seed: int = 0):
        rng = np.random.default_rng(seed)
        S = process.num_states
        self.config = SimpleNamespace(n_layers=1, n_ctx=n_ctx, bos=False, d_model=d_model)
        self.A_SxD = rng.normal(size=(S, d_model))
        self.c_D = rng.normal(size=d_model)
        self.decode_DxS = np.linalg.pinv(self.A_SxD)
        self.process = process
        self.T = jnp.asarray(process.transition_matrices, jnp.float32)
        self.w = jnp.asarray(process.right_vector, jnp.float32)
        self.pi = jnp.asarray(process.stationary_distribution, jnp.float32)

    def encode(self, eta):
        h = eta @ jnp.asarray(self.A_SxD, jnp.float32)
        return h + lift(jnp.asarray(self.c_D, jnp.float32), h)

    def decode(self, h):
        return (h - lift(jnp.asarray(self.c_D, jnp.float32), h)) @ jnp.asarray(self.decode_DxS, jnp.float32)

    def logits_from_residual(self, h):
        eta = self.decode(h)
        p = (eta @ jnp.einsum("vst,t->sv", self.T, self.w)) / (eta @ self.w)[..., None]
        return jnp.log(jnp.maximum(p, 1e-30))

    def __call__(self, tokens_BxL, capture=(), replace=None):
        replace, acts = dict(replace or {}), {}

        def site(name, value):
            value = replace.get(name, value)
            if name in capture:
                acts[name] = value
            return value

        tokens_BxL = jnp.asarray(tokens_BxL)
        B, L = tokens_BxL.shape
        site("embed", jax.nn.one_hot(tokens_BxL, self.config.d_model))
        mid = site("blocks.0.resid_mid", site("blocks.0.resid_pre", self.encode(hmm.beliefs(self.process, tokens_BxL))))
        prev = jnp.concatenate([jnp.broadcast_to(self.pi, (B, 1, self.pi.shape[0])), self.decode(mid[:, :-1])], 1)
        nxt = jnp.einsum("bls,blst->blt", prev, self.T[tokens_BxL])
        post = site("blocks.0.resid_post", self.encode(nxt / jnp.maximum(nxt @ self.w, 1e-30)[..., None]))
        return self.logits_from_residual(site("ln_final", post)), acts
