"""What a prefix's recent tokens and its length say, from integer prefix codes (no model).

`suffix_keys`: one integer per prefix naming (length, last k tokens); `onehot_blocks`: one-hot blocks
`position` (the length) and `token-j` (the j-th last token, or "absent" when the prefix is shorter than j).
"""

import numpy as np


def last_tokens(codes_N: np.ndarray, lengths_N: np.ndarray, vocab_size: int, j: int) -> np.ndarray:
    """The j-th last token of each prefix (j = 1: the last), or -1 where the prefix is shorter than j."""
    token = (np.asarray(codes_N, np.int64) // vocab_size ** (j - 1)) % vocab_size
    return np.where(np.asarray(lengths_N) >= j, token, -1)


def suffix_keys(codes_N: np.ndarray, lengths_N: np.ndarray, vocab_size: int, k: int) -> np.ndarray:
    """`key_N`: equal exactly when two prefixes have the same length and the same last k tokens (k = 0:
    the length alone). Codes hold the first token most significant, so the last k tokens are `code % V^k`."""
    codes, lengths = np.asarray(codes_N, np.int64), np.asarray(lengths_N, np.int64)
    modulus = vocab_size**k
    return lengths * modulus + codes % modulus


def suffix_keys_any_length(codes_N: np.ndarray, lengths_N: np.ndarray, vocab_size: int, k: int) -> np.ndarray:
    """`key_N`: equal exactly when two prefixes end in the same k tokens, whatever their lengths (a prefix
    shorter than k is its own cell, as in `suffix_keys`)."""
    codes, lengths = np.asarray(codes_N, np.int64), np.asarray(lengths_N, np.int64)
    modulus = vocab_size**k
    return np.where(lengths >= k, codes % modulus, modulus * (1 + lengths) + codes)


def onehot_blocks(codes_N: np.ndarray, lengths_N: np.ndarray, vocab_size: int, max_k: int) -> dict:
    """`{"position": [N, P], "token-1": [N, V+1], ..., "token-{max_k}": [N, V+1]}` float64 one-hots
    (the last column of a token block: the prefix is too short to have that token)."""
    lengths = np.asarray(lengths_N, np.int64)
    values = np.unique(lengths)
    blocks = {"position": (lengths[:, None] == values[None]).astype(np.float64)}
    rows = np.arange(len(lengths))
    for j in range(1, max_k + 1):
        token = last_tokens(codes_N, lengths, vocab_size, j)
        block = np.zeros((len(lengths), vocab_size + 1))
        block[rows, np.where(token < 0, vocab_size, token)] = 1.0
        blocks[f"token-{j}"] = block
    return blocks


def history_groups(max_k: int) -> dict:
    """`{"last k tokens + position": ["position", "token-1", ..., "token-k"]}` for k = 1..max_k."""
    return {k: ["position"] + [f"token-{j}" for j in range(1, k + 1)] for k in range(1, max_k + 1)}
