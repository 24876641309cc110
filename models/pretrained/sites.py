"""Site names of the pretrained decoder and the static plan of one call: which block sites the layer scan
captures (into which slot of a stacked buffer) and which it replaces (from which slot of the stacked substitutes).

Residual sites are `[B, L, D]`; `blocks.{l}.attn.z` (per-head attention outputs before the output projection)
is `[B, L, H, D_head]`; `blocks.{l}.attn.pattern` is `[B, H, L, L]` and can be captured, not replaced.
"""

from dataclasses import dataclass

import numpy as np

from models.pretrained.config import PretrainedConfig

BLOCK_SITES = ("resid_pre", "attn_out", "resid_mid", "mlp_out", "resid_post")
HEAD_SITE, PATTERN_SITE = "attn.z", "attn.pattern"


def residual_site_names(cfg: PretrainedConfig) -> tuple[str, ...]:
    """Residual-stream sites in forward order (what `capture="all"` returns)."""
    sites = ["embed"] + (["pos_embed"] if not cfg.rotary_dim else [])
    for layer in range(cfg.n_layers):
        sites += [f"blocks.{layer}.{s}" for s in BLOCK_SITES]
    return tuple(sites + ["ln_final"])


def all_site_names(cfg: PretrainedConfig) -> tuple[str, ...]:
    """Every capturable site: the residual stream plus each block's head outputs and attention pattern."""
    return residual_site_names(cfg) + tuple(
        f"blocks.{layer}.{kind}" for layer in range(cfg.n_layers) for kind in (HEAD_SITE, PATTERN_SITE)
    )


def replaceable_site_names(cfg: PretrainedConfig) -> tuple[str, ...]:
    """Sites `replace=` accepts: the residual stream and each block's head outputs."""
    return residual_site_names(cfg) + tuple(f"blocks.{layer}.{HEAD_SITE}" for layer in range(cfg.n_layers))


def site_shape(cfg: PretrainedConfig, site: str, B: int, L: int) -> tuple:
    """The shape of `site`'s tensor for a `[B, L]` batch of tokens."""
    if site.endswith(HEAD_SITE):
        return (B, L, cfg.n_heads, cfg.d_head)
    if site.endswith(PATTERN_SITE):
        return (B, cfg.n_heads, L, L)
    return (B, L, cfg.d_model)


def split_block_site(site: str):
    """`(layer, kind)` for `blocks.{l}.{kind}`, None for a site outside the blocks."""
    if not site.startswith("blocks."):
        return None
    layer, kind = site[len("blocks.") :].split(".", 1)
    return int(layer), kind


@dataclass(frozen=True)
class ScanPlan:
    """Per block kind, `slots[kind][l]` = where layer `l`'s tensor goes in (capture) or comes from (replace)
    a stacked `[n, ...]` array, or -1. Only kinds with at least one such layer appear."""

    capture: dict
    replace: dict
    replaced_sites: dict  # kind -> block site names in slot order

    @property
    def with_pattern(self) -> bool:
        return PATTERN_SITE in self.capture


def scan_plan(cfg: PretrainedConfig, wanted: frozenset, replaced: tuple) -> ScanPlan:
    """The plan for capturing `wanted` and replacing `replaced` sites (a replaced site is reported from the
    substitute itself, so the scan does not capture it)."""

    def slots(sites):
        by_kind = {}
        for site in sorted(sites, key=lambda s: split_block_site(s) or (-1, "")):
            layer, kind = split_block_site(site)
            by_kind.setdefault(kind, []).append((layer, site))
        table = {}
        for kind, pairs in by_kind.items():
            slot_N = np.full(cfg.n_layers, -1, np.int32)
            slot_N[[layer for layer, _ in pairs]] = np.arange(len(pairs), dtype=np.int32)
            table[kind] = slot_N
        return table, {kind: [site for _, site in pairs] for kind, pairs in by_kind.items()}

    block_replaced = [s for s in replaced if split_block_site(s)]
    block_wanted = [s for s in wanted if split_block_site(s) and s not in replaced]
    capture, _ = slots(block_wanted)
    replace, replaced_sites = slots(block_replaced)
    return ScanPlan(capture, replace, replaced_sites)
