"""A tiny tokenizer stand-in for the random Llama of tests/models/pretrained/test_interface.py (vocab 23)."""

from types import SimpleNamespace

VOCAB = {" A": 3, " B": 7, " C": 11, "A": 3, ",": 5, " D": 13, "x": 17}


class TinyTokenizer:
    """Whole strings in VOCAB are one token; anything else is one token per character (unknown chars -> 1)."""

    def encode(self, text: str):
        if text in VOCAB:
            return SimpleNamespace(ids=[VOCAB[text]])
        return SimpleNamespace(ids=[VOCAB.get(c, 1) for c in text])
