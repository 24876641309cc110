"""The tokens a cheaper lens readout keeps: those the model finds most probable on some rows."""

import jax
import numpy as np


def top_vocabulary(model, final_NxD, next_ids_N, size: int, batch: int = 512) -> np.ndarray:
    """The `size` token ids (sorted) with the most model probability over the rows, observed next tokens first."""
    mass_V = np.zeros(model.config.vocab_size)
    for start in range(0, len(final_NxD), batch):
        mass_V += np.asarray(jax.nn.softmax(model.logits_from_residual(final_NxD[start : start + batch]), -1)).sum(0)
    mass_V[np.unique(next_ids_N)] += len(final_NxD)
    return np.sort(np.argsort(-mass_V)[:size]).astype(np.int32)
