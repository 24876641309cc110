"""Tokenizers with the `tokenizers` package: byte-level BPE from a GGUF file's vocabulary and merges,
or a Hugging Face `tokenizer.json`."""

from pathlib import Path

from models.pretrained.errors import UnsupportedModelError

# GGUF `tokenizer.ggml.pre` -> how text is split before BPE (llama.cpp's names).
# "smollm" (SmolLM/StarCoder family): every digit on its own, then GPT-2's byte-level regex.
_SPLIT_DIGITS = {"smollm": True, "starcoder": True, "refact": True, "gpt2": False, "default": False}
_CONTROL, _USER_DEFINED = 3, 4


def bpe_from_gguf_vocab(tokens: list, merges: list, token_types: list, pre: str):
    """A byte-level BPE `tokenizers.Tokenizer` with no added BOS; control tokens are special tokens."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    if pre not in _SPLIT_DIGITS:
        raise UnsupportedModelError(
            f"GGUF tokenizer.ggml.pre={pre!r} is not supported: expected one of {sorted(_SPLIT_DIGITS)}"
        )
    vocab = {token: index for index, token in enumerate(tokens)}
    pairs = [tuple(merge.split(" ", 1)) for merge in merges]
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=pairs, fuse_unk=False))
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.pre_tokenizer = (
        pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level])
        if _SPLIT_DIGITS[pre]
        else byte_level
    )
    tokenizer.decoder = decoders.ByteLevel()
    special = [
        AddedToken(tokens[i], special=True, normalized=False)
        for i, kind in enumerate(token_types)
        if kind in (_CONTROL, _USER_DEFINED)
    ]
    tokenizer.add_special_tokens(special)
    return tokenizer


def tokenizer_from_json(path: Path):
    """The `tokenizers.Tokenizer` saved in `tokenizer.json`."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path))
