"""One pass of a language model over rendered sequences: its next-symbol distribution (renormalised over the
symbol tokens), the probability mass it puts on the symbols, and residuals at the readout positions."""

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np


@dataclass(frozen=True)
class ModelReadout:
    """`log_q_NxTxV`: log-probabilities renormalised over the symbols; `log_mass_NxT`: log of the total
    probability of the symbol tokens; `resid {site: [N * T, D]}` float32, rows sequence-major."""

    log_q_NxTxV: np.ndarray
    log_mass_NxT: np.ndarray
    resid: dict


@jax.jit
def symbol_log_probs(logits_BxTxW, symbol_ids_V):
    """`(log q [B, T, V], log mass [B, T])` from full logits: softmax over the symbols, and their total share."""
    logits = logits_BxTxW.astype(jnp.float32)
    symbol = jnp.take(logits, symbol_ids_V, axis=-1)
    lse_symbol = jax.nn.logsumexp(symbol, axis=-1)
    return symbol - lse_symbol[..., None], lse_symbol - jax.nn.logsumexp(logits, axis=-1)


def read_model(
    model,
    ids_NxL: np.ndarray,
    positions_T: np.ndarray,
    symbol_ids_V: np.ndarray,
    sites=(),
    batch_size: int = 4,
    progress=None,
) -> ModelReadout:
    """Run `model` over the rendered sequences in batches and keep only the readout positions."""
    positions = jnp.asarray(positions_T)
    log_q, log_mass, resid = [], [], {site: [] for site in sites}
    for start in range(0, len(ids_NxL), batch_size):
        logits, acts = model(ids_NxL[start : start + batch_size], capture=tuple(sites))
        q, mass = symbol_log_probs(jnp.take(logits, positions, axis=1), jnp.asarray(symbol_ids_V))
        log_q.append(np.asarray(q, np.float64))
        log_mass.append(np.asarray(mass, np.float64))
        for site in sites:
            h = np.asarray(jnp.take(acts[site], positions, axis=1), np.float32)
            resid[site].append(h.reshape(-1, h.shape[-1]))
        if progress is not None:
            progress.update(len(logits))
    return ModelReadout(
        np.concatenate(log_q), np.concatenate(log_mass), {site: np.concatenate(parts) for site, parts in resid.items()}
    )
