"""Word tasks for function vectors (Todd et al. 2024), generated from a word list: each task is a list of
`(input, output)` pairs of strings, shown to a model as `Q: input\\nA: output`.

Words come from the plain-text noun list that the PyPI package `wonderwords` (MIT) ships; ordinal lists
(numbers, days, months) are written here. A tokenizer then keeps only pairs whose words are single tokens
(`select_pairs`), so every prompt of a task has the same length.
"""

from importlib import resources

from models.config import ConfigError
from models.keys import numpy_rng

NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
ORDINAL_LISTS = (NUMBERS, DAYS, MONTHS)
TASKS = (
    "capitalize",
    "first_letter",
    "last_letter",
    "next_item",
    "previous_item",
    "choose_first_of_3",
    "choose_last_of_3",
)
INSTALL = "pip install wonderwords==3.0.1 (the project's `words` extra)"


def word_list() -> list[str]:
    """Lower-case alphabetic nouns of 3 to 8 letters from wonderwords' `assets/nounlist.txt`, sorted."""
    try:
        text = resources.files("wonderwords").joinpath("assets", "nounlist.txt").read_text(encoding="utf-8")
    except ModuleNotFoundError:
        raise ConfigError(f"the function-vector tasks need a word list: {INSTALL}") from None
    return sorted({w for w in text.split() if w.isalpha() and w.islower() and w.isascii() and 3 <= len(w) <= 8})


def _ordinal_pairs(step: int) -> list[tuple[str, str]]:
    pairs = []
    for items in ORDINAL_LISTS:
        pairs += [(items[i], items[i + step]) for i in range(len(items)) if 0 <= i + step < len(items)]
    return pairs


def task_pairs(task: str, words: list[str], seed: int = 0, count: int = 400) -> list[tuple[str, str]]:
    """`(input, output)` pairs of `task`: up to `count` from a seeded shuffle of `words` (the ordinal tasks
    have all of theirs)."""
    rng = numpy_rng(seed, "fv_words")
    words = [words[i] for i in rng.permutation(len(words))]
    if task == "capitalize":
        return [(w, w.capitalize()) for w in words[:count]]
    if task == "first_letter":
        return [(w, w[0]) for w in words[:count]]
    if task == "last_letter":
        return [(w, w[-1]) for w in words[:count]]
    if task in ("next_item", "previous_item"):
        return _ordinal_pairs(1 if task == "next_item" else -1)
    if task in ("choose_first_of_3", "choose_last_of_3"):
        triples = [rng.choice(len(words), 3, replace=False) for _ in range(count)]
        pick = 0 if task == "choose_first_of_3" else 2
        return [(", ".join(words[i] for i in t), words[t[pick]]) for t in triples]
    raise ConfigError(f"task={task!r} is unknown: one of {list(TASKS)}")
