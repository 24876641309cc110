"""Checks across config sections, run when a config is loaded (before any training or analysis starts)."""

from models.config import ConfigError
from models.transformer import residual_sites


def _site_help(n_layers: int) -> str:
    blocks = f"blocks.{{0..{n_layers - 1}}}.{{resid_pre,attn_out,resid_mid,mlp_out,resid_post}}"
    return f"'residual', 'resid_post' or a list of embed, pos_embed, {blocks}, ln_final"


def check_analysis_sites(config) -> None:
    """Every site the analysis names must exist in the configured model."""
    valid = set(residual_sites(config.model))
    fields = {"sites": config.analysis.sites, "emergence_sites": config.analysis.emergence_sites}
    if not isinstance(config.analysis.concat, str):
        fields.update({f"concat[{i}]": group for i, group in enumerate(config.analysis.concat)})
    for field, sites in fields.items():
        if isinstance(sites, str) and not field.startswith("concat"):
            continue  # a named set, checked by AnalysisConfig
        names = [sites] if isinstance(sites, str) else list(sites)
        unknown = [s for s in names if s not in valid]
        if unknown or not names:
            raise ConfigError(
                f"config.analysis.{field}={names!r} is invalid: "
                f"{f'{unknown[0]!r} is not a site of' if unknown else 'no sites for'} this "
                f"{config.model.n_layers}-layer model; allowed: {_site_help(config.model.n_layers)}"
            )


def check_experiment(config) -> None:
    """All cross-section constraints of an `ExperimentConfig`."""
    check_analysis_sites(config)
