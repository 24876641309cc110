"""The last position of equal-length prompts, run many ways at once against one cache of the positions before
it (`models.pretrained.cached`): each variant with some heads' outputs replaced, or a vector added to the
residual at some block's input. Returns the probability of each prompt's answer token and the top-1 token."""

from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from models.pretrained.cached import decode_step, prefill


@lru_cache(maxsize=8)
def _program(graphdef, kind: str):
    def run(state, tokens_BxP, answers_B, edit):
        model = nnx.merge(graphdef, state)
        caches = prefill(model, tokens_BxP[:, :-1])
        pos = tokens_BxP.shape[1] - 1

        def variants(edit_chunk):
            V = edit_chunk["mask" if kind == "heads" else "weight"].shape[1]
            logits, _ = decode_step(
                model,
                tokens_BxP[:, -1],
                pos,
                caches,
                V,
                write=False,
                **{"patch" if kind == "heads" else "add": edit_chunk},
            )
            logp = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
            answer = jnp.take_along_axis(logp, answers_B[:, None, None], axis=-1)[..., 0]
            return jnp.exp(answer), logits.argmax(-1)

        return jax.lax.map(variants, edit)

    return jax.jit(run)


def head_patch_effects(model, tokens_BxP, answers_B, values_LxHxDh) -> tuple[np.ndarray, np.ndarray]:
    """`(p_answer [B], p_patched [B, L, H])`: the answer's probability as is, and with head `h` of layer `l`
    alone replaced by `values[l, h]` at the last position (one batched step per layer)."""
    cfg = model.config
    L, H = cfg.n_layers, cfg.n_heads
    eye = np.eye(H, dtype=bool)
    mask_CxLxVxH = np.zeros((L + 1, L, H, H), bool)  # chunk c < L patches layer c; chunk L patches nothing
    mask_CxLxVxH[np.arange(L), np.arange(L)] = eye
    value = jnp.asarray(values_LxHxDh, jnp.float32)
    edit = {"mask": jnp.asarray(mask_CxLxVxH), "value": jnp.broadcast_to(value, (L + 1, *value.shape))}
    graphdef, state = nnx.split(model)
    p_CxBxV, _ = _program(graphdef, "heads")(state, jnp.asarray(tokens_BxP), jnp.asarray(answers_B), edit)
    p = np.asarray(p_CxBxV, np.float64)
    return p[L, :, 0], p[:L].transpose(1, 0, 2)


def added_vector_outputs(model, tokens_BxP, answers_B, vectors_KxD, scale: float = 1.0):
    """`(p_answer [K, B, L + 1], top1 [K, B, L + 1])` for each of K vectors: column `l < L` with
    `scale * vector` added to the last position's residual at the input of block `l`; column `L` unedited."""
    vectors = jnp.asarray(np.atleast_2d(vectors_KxD), jnp.float32)
    L, K = model.config.n_layers, vectors.shape[0]
    weight = np.zeros((K, L, L + 1), np.float32)
    weight[:, np.arange(L), np.arange(L)] = scale
    edit = {"weight": jnp.asarray(weight), "vector": vectors}
    graphdef, state = nnx.split(model)
    p, top1 = _program(graphdef, "add")(state, jnp.asarray(tokens_BxP), jnp.asarray(answers_B), edit)
    return np.asarray(p, np.float64), np.asarray(top1)
