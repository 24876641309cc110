"""Symbol maps: validation errors name the symbol; rendering and readout positions by hand."""

import numpy as np
import pytest

from analysis.llm_beliefs.symbols import SymbolError, symbol_map
from tests.analysis.llm_beliefs.stand_ins import TinyTokenizer


def test_default_symbols_are_the_first_letters_with_a_space():
    sm = symbol_map(TinyTokenizer(), 3)
    assert sm.symbols == (" A", " B", " C") and sm.ids.tolist() == [3, 7, 11] and sm.stride == 1


def test_a_symbol_of_two_tokens_is_a_one_line_error_naming_it():
    with pytest.raises(SymbolError, match=r"symbol ' AB' is invalid: it encodes to 3 tokens") as err:
        symbol_map(TinyTokenizer(), 3, [" A", " AB", " C"])
    assert "\n" not in str(err.value)


def test_two_symbols_of_the_same_token_are_an_error_naming_both():
    with pytest.raises(SymbolError, match=r"symbol 'A' is invalid: it encodes to token 3, the same as symbol ' A'"):
        symbol_map(TinyTokenizer(), 3, [" A", "A", " C"])


def test_the_number_of_symbols_must_match_the_process_vocabulary():
    with pytest.raises(SymbolError, match=r"the process has 3 tokens, so give exactly 3 symbols"):
        symbol_map(TinyTokenizer(), 3, [" A", " B"])
    with pytest.raises(SymbolError, match=r"symbol '' is invalid: a non-empty string"):
        symbol_map(TinyTokenizer(), 3, [" A", "", " C"])


def test_a_separator_that_shares_a_symbol_token_is_an_error():
    with pytest.raises(SymbolError, match=r"separator 'A' is invalid: it shares a token"):
        symbol_map(TinyTokenizer(), 3, separator="A")


def test_rendering_with_a_separator_and_where_the_model_is_read():
    sm = symbol_map(TinyTokenizer(), 3, separator=",x")
    ids = sm.render(np.array([[0, 2, 1], [1, 1, 0]]))
    assert ids.tolist() == [[3, 5, 17, 11, 5, 17, 7, 5, 17], [7, 5, 17, 7, 5, 17, 3, 5, 17]]
    assert sm.readout_positions(3).tolist() == [2, 5, 8]  # the separator's last token after each symbol
    assert symbol_map(TinyTokenizer(), 3).readout_positions(3).tolist() == [0, 1, 2]
