"""Real-text plumbing (experiments.llm.corpus, analysis.lenses.text_rows): the corpus split, token windows,
and residual rows aligned with their next tokens."""

import numpy as np
import pytest

from analysis.lenses.text_rows import block_input_sites as lens_sites
from analysis.lenses.text_rows import encode_windows as token_windows
from analysis.lenses.text_rows import residual_rows
from experiments.llm.corpus import split_text
from models.config import ConfigError
from tests.models.pretrained.test_interface import _random_llama


class _CharTokenizer:
    """One id per character (ord mod 23): enough to check the windowing by hand."""

    class _Encoding:
        def __init__(self, ids):
            self.ids = ids

    def encode(self, text):
        return self._Encoding([ord(c) % 23 for c in text])


def test_split_cuts_after_a_line_break_near_the_fraction():
    text = "".join(f"line {i:03d}\n" for i in range(100))  # 9 characters a line
    train, heldout = split_text(text, 0.25)
    assert train + heldout == text and train.endswith("\n")
    # 900 characters; 75% is character 675, the start of line 75, so the cut follows line 75's break
    assert train.count("\n") == 76 and heldout.count("\n") == 24 and heldout.startswith("line 076")


def test_windows_are_consecutive_and_capped():
    text = "abcdefghijklmnopqrstuvwxyz"
    windows = token_windows(_CharTokenizer(), text, window=5, max_tokens=23)
    assert windows.shape == (4, 5)
    np.testing.assert_array_equal(windows.reshape(-1), [ord(c) % 23 for c in text[:20]])
    with pytest.raises(ConfigError, match="fewer than one window of 50"):
        token_windows(_CharTokenizer(), text, window=50, max_tokens=1000)


def test_rows_pair_each_residual_with_its_next_token():
    model = _random_llama()
    windows = np.random.default_rng(0).integers(0, 23, (3, 7))
    sites = lens_sites(model.config.n_layers)
    assert sites[-1] == "blocks.2.resid_post" and sites[0] == "blocks.0.resid_pre"
    resid, next_ids = residual_rows(model, windows, sites, batch_size=2)
    assert next_ids.shape == (18,) and all(h.shape == (18, 16) for h in resid.values())
    _, acts = model(windows[1:2], capture=sites)
    np.testing.assert_allclose(
        resid["blocks.1.resid_pre"][6:12], np.asarray(acts["blocks.1.resid_pre"])[0, :-1], atol=1e-6
    )
    np.testing.assert_array_equal(next_ids[6:12], windows[1, 1:])
