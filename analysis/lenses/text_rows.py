"""Token windows of real text -> lens rows: the residuals at every window position but the last (each row
has its observed next token), and the UTF-8 bytes those next tokens spell (for bits per byte)."""

import numpy as np

from analysis.lenses.inputs import LensInputError, LensInputs


def encode_windows(tokenizer, text: str, window: int, max_tokens: int) -> np.ndarray:
    """Consecutive non-overlapping windows `[W, window]` of the text's token ids, at most `max_tokens` ids."""
    ids = np.asarray(tokenizer.encode(text).ids, np.int32)
    count = min(len(ids), max_tokens) // window
    if count < 1:
        raise LensInputError(f"the text has {len(ids)} tokens (limit {max_tokens}): fewer than one window of {window}")
    return ids[: count * window].reshape(count, window)


def block_input_sites(n_layers: int) -> tuple[str, ...]:
    """Each block's input in depth order, then the final residual (whose readout is the model's output)."""
    return tuple(f"blocks.{layer}.resid_pre" for layer in range(n_layers)) + (f"blocks.{n_layers - 1}.resid_post",)


def residual_rows(model, windows_WxL, sites, batch_size: int = 4, progress=None) -> tuple[dict, np.ndarray]:
    """`({site: h_NxD}, next_ids_N)` for rows = every window position but the last, windows in order."""
    windows_WxL = np.asarray(windows_WxL)
    resid = {site: [] for site in sites}
    for start in range(0, len(windows_WxL), batch_size):
        batch = windows_WxL[start : start + batch_size]
        _, acts = model(batch, capture=tuple(sites))
        for site in sites:
            resid[site].append(np.asarray(acts[site])[:, :-1].reshape(-1, acts[site].shape[-1]))
        if progress is not None:
            progress.update(len(batch))
    return {site: np.concatenate(parts) for site, parts in resid.items()}, windows_WxL[:, 1:].reshape(-1)


def text_inputs(model, windows_WxL, sites, batch_size: int = 4) -> LensInputs:
    """Lens inputs (unit weights, observed next tokens) for the rows of these windows."""
    resid, next_ids = residual_rows(model, windows_WxL, sites, batch_size)
    return LensInputs(resid=resid, weights_N=np.ones(len(next_ids)), next_ids_N=next_ids)


def predicted_bytes(tokenizer, windows_WxL) -> int:
    """UTF-8 bytes of the text the rows' next tokens spell (each window's tokens after the first, decoded)."""
    return int(sum(len(tokenizer.decode([int(t) for t in w[1:]]).encode("utf-8")) for w in np.asarray(windows_WxL)))


def bits(nats_per_token, tokens: int, n_bytes: int) -> dict:
    """Cross-entropy in nats per token as `{"bits_per_token", "bits_per_byte"}` (`nats * tokens / bytes / ln 2`)."""
    nats = np.asarray(nats_per_token, np.float64)
    return {
        "bits_per_token": (nats / np.log(2)).tolist(),
        "bits_per_byte": (nats * tokens / n_bytes / np.log(2)).tolist(),
    }
