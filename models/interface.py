"""The one model interface: what the analysis, lenses and interventions may ask of any model.

The toy `Transformer` and the pretrained decoders (`models.pretrained`) both satisfy it, so a toy model and a
real LLM go through the same analysis code (docs/design.md).
"""

from typing import Protocol, runtime_checkable

import jax


@runtime_checkable
class Model(Protocol):
    """A causal language model with named sites.

    - `model(tokens_BxL, capture=(), replace=None)` returns the logits `[B, L, V]` and `{site: array}` for the
      captured sites. `capture` is a site name, a collection of names, or `"all"`: every residual-stream site
      (`residual_sites()`), never the attention patterns or per-head sites, which are captured by name.
      `replace={site: array}` substitutes a residual site's tensor and runs the rest of the network on it.
    - `site_names()`: every capturable name; `residual_sites()`: the residual stream in forward order.
    - `logits_from_residual(h)`: the final norm, with its statistics recomputed on `h`, then the unembedding.
    """

    def __call__(self, tokens_BxL, capture=(), replace=None) -> tuple[jax.Array, dict]: ...

    def site_names(self) -> tuple[str, ...]: ...

    def residual_sites(self) -> tuple[str, ...]: ...

    def logits_from_residual(self, resid_BxLxD) -> jax.Array: ...
