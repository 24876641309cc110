"""Mean head outputs at the last token, the causal indirect effect of each head, and the function vector."""

import numpy as np

from analysis.function_vectors.last_token import head_patch_effects


def head_site(layer: int) -> str:
    """The per-head attention output site (before the output projection), `[B, L, H, D_head]`."""
    return f"blocks.{layer}.attn.z"


def mean_head_outputs(model, tokens_BxP, batch: int = 8) -> np.ndarray:
    """`[layers, H, D_head]`: each head's output at the last position, averaged over the prompts."""
    sites = tuple(head_site(layer) for layer in range(model.config.n_layers))
    total = 0.0
    for start in range(0, len(tokens_BxP), batch):
        _, acts = model(tokens_BxP[start : start + batch], capture=sites)
        total = total + np.stack([np.asarray(acts[s][:, -1], np.float64).sum(0) for s in sites])
    return total / len(tokens_BxP)


def causal_indirect_effects(model, tokens_BxP, answers_B, mean_LxHxDh) -> np.ndarray:
    """`[layers, H]`: mean over prompts of P(answer | head's output at the last token set to its mean over clean
    prompts) - P(answer | prompt as is), on (label-shuffled) prompts."""
    p_plain, p_patched = head_patch_effects(model, tokens_BxP, answers_B, mean_LxHxDh)
    return (p_patched - p_plain[:, None, None]).mean(0)


def top_heads(cie_LxH, count: int = 10) -> list[tuple[int, int]]:
    """The `count` (layer, head) pairs with the largest effect, largest first."""
    flat = np.argsort(-np.asarray(cie_LxH), axis=None)[:count]
    return [tuple(int(i) for i in np.unravel_index(f, np.shape(cie_LxH))) for f in flat]


def function_vector(model, mean_LxHxDh, heads) -> np.ndarray:
    """`[D]`: the sum over `heads` of each head's mean output through its slice of the output projection."""
    Dh = model.config.d_head
    out = np.zeros(model.config.d_model)
    W_O = np.asarray(model.blocks.attn.W_O[...], np.float64)  # [layers, H * Dh, D]
    for layer, h in heads:
        out += mean_LxHxDh[layer, h] @ W_O[layer, h * Dh : (h + 1) * Dh]
    return out
