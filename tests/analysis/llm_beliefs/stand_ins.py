"""A tiny tokenizer stand-in for the random Llama of tests/models/pretrained/test_interface.py (vocab 23)."""

from types import SimpleNamespace

VOCAB = {" A": 3, " B": 7, " C": 11, "A": 3, ",": 5, " D": 13, "x": 17}


class TinyTokenizer:
    """Whole strings in VOCAB are one token; anything else is one token per character (unknown chars -> 1)."""

    def encode(self, text: str):
        if text in VOCAB:
            return SimpleNamespace(ids=[VOCAB[text]])
        return SimpleNamespace(ids=[VOCAB.get(c, 1) for c in text])


class LinearBeliefModel:
    """A stand-in LLM (the `model(ids, capture, replace)` interface) built so that its one residual site holds the
    exact belief linearly, `h = eta A + c`, and its output is the Bayes prediction of the belief `(h - c) A^+`
    read back from that site (clipped at 1e-12): steering `h` to a belief must give that belief's prediction.

    Symbol x is model token `symbol_ids[x]`; other tokens get logit -30."""

    SITE = "blocks.0.resid_pre"

    def __init__(self, process, symbol_ids, vocab: int = 23, width: int = 6, seed: int = 0):
        import numpy as np

        rng = np.random.default_rng(seed)
        self.T = np.asarray(process.transition_matrices, np.float64)
        self.w = np.asarray(process.right_vector, np.float64)
        self.pi = np.asarray(process.stationary_distribution, np.float64)
        self.A = rng.normal(size=(process.num_states, width))
        self.c = rng.normal(size=width)
        self.symbol_ids = np.asarray(symbol_ids)
        self.token_of_id = np.zeros(vocab, np.int64)
        self.token_of_id[self.symbol_ids] = np.arange(len(self.symbol_ids))
        self.vocab = vocab

    def beliefs(self, ids_BxL):
        import numpy as np

        tokens = self.token_of_id[np.asarray(ids_BxL)]
        eta = np.tile(self.pi, (len(tokens), 1))
        out = []
        for t in range(tokens.shape[1]):  # the exact filter, position by position (test code)
            eta = np.einsum("bs,bst->bt", eta, self.T[tokens[:, t]])
            eta /= (eta @ self.w)[:, None]
            out.append(eta)
        return np.stack(out, 1)

    def __call__(self, ids_BxL, capture=(), replace=None):
        import numpy as np

        h = self.beliefs(ids_BxL) @ self.A + self.c
        h = np.asarray((replace or {}).get(self.SITE, h), np.float64)
        eta = (h - self.c) @ np.linalg.pinv(self.A)
        p = np.maximum(np.einsum("bls,xst,t->blx", eta, self.T, self.w), 1e-12)
        logits = np.full(h.shape[:2] + (self.vocab,), -30.0)
        logits[..., self.symbol_ids] = np.log(p)
        return logits.astype(np.float32), {site: h.astype(np.float32) for site in capture}
