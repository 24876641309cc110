"""Causal attention (fused and explicit paths) against a naive per-head, per-position numpy loop."""

import numpy as np
import pytest

from models.pretrained.layers import causal_attention


def naive_attention(q, k, v):
    """Loop over batch, head and query position: softmax of the scaled dot products with keys 0..i."""
    B, L, H, Dh = q.shape
    G = H // k.shape[2]
    z = np.zeros((B, L, H, Dh))
    pattern = np.zeros((B, H, L, L))
    for b in range(B):
        for h in range(H):
            for i in range(L):
                scores = np.array([q[b, i, h] @ k[b, t, h // G] for t in range(i + 1)]) / np.sqrt(Dh)
                weights = np.exp(scores - scores.max())
                weights /= weights.sum()
                pattern[b, h, i, : i + 1] = weights
                z[b, i, h] = sum(w * v[b, t, h // G] for t, w in enumerate(weights))
    return z.reshape(B, L, H * Dh), pattern


@pytest.mark.parametrize("with_pattern", [False, True])
@pytest.mark.parametrize("kv_heads", [1, 2, 6])
@pytest.mark.parametrize("L", [1, 10])
def test_causal_attention_matches_the_naive_loop(with_pattern, kv_heads, L):
    rng = np.random.default_rng(L * 10 + kv_heads)
    B, H, Dh = 2, 6, 4
    q = rng.standard_normal((B, L, H, Dh)).astype(np.float32)
    k, v = (rng.standard_normal((B, L, kv_heads, Dh)).astype(np.float32) for _ in range(2))
    z, pattern = causal_attention(q, k, v, with_pattern=with_pattern)
    z_ref, pattern_ref = naive_attention(q.astype(np.float64), k.astype(np.float64), v.astype(np.float64))
    assert z.shape == (B, L, H, Dh)
    np.testing.assert_allclose(np.asarray(z).reshape(B, L, H * Dh), z_ref, atol=2e-6, rtol=1e-5)
    if with_pattern:
        assert pattern.shape == (B, H, L, L)
        np.testing.assert_allclose(np.asarray(pattern), pattern_ref, atol=2e-7, rtol=1e-5)
    else:
        assert pattern is None
