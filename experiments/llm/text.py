"""Text -> token windows -> residual rows of a pretrained model, the inputs of the lenses on real text.

A row is one position of one window that has a next token inside the window (the window's last position
is dropped), so every row carries its observed next token.
"""

import numpy as np

from models.config import ConfigError


def token_windows(tokenizer, text: str, window: int, max_tokens: int) -> np.ndarray:
    """Consecutive non-overlapping windows `[W, window]` of the text's token ids, at most `max_tokens` ids."""
    ids = np.asarray(tokenizer.encode(text).ids, np.int32)
    count = min(len(ids), max_tokens) // window
    if count < 1:
        raise ConfigError(f"the text has {len(ids)} tokens (limit {max_tokens}): fewer than one window of {window}")
    return ids[: count * window].reshape(count, window)


def lens_sites(n_layers: int) -> tuple[str, ...]:
    """Each block's input in depth order, then the final residual (whose readout is the model's output)."""
    return tuple(f"blocks.{layer}.resid_pre" for layer in range(n_layers)) + (f"blocks.{n_layers - 1}.resid_post",)


def residual_rows(model, windows_WxL: np.ndarray, sites, batch_size: int = 4, progress=None):
    """`({site: h_NxD}, next_ids_N)` for rows = every window position but the last, windows in order."""
    resid = {site: [] for site in sites}
    for start in range(0, len(windows_WxL), batch_size):
        batch = windows_WxL[start:start + batch_size]
        _, acts = model(batch, capture=tuple(sites))
        for site in sites:
            resid[site].append(np.asarray(acts[site])[:, :-1].reshape(-1, acts[site].shape[-1]))
        if progress is not None:
            progress.update(len(batch))
    next_ids_N = windows_WxL[:, 1:].reshape(-1)
    return {site: np.concatenate(parts) for site, parts in resid.items()}, next_ids_N
