"""`belieflab compare` with a `probe-llm` run: each lens's KL to the Bayes prediction by relative depth, for the toy
runs (analysis.json `lenses.trained`, from the lens stage) beside the LLM (probe-llm's lenses against Bayes).

Relative depth = blocks passed / blocks: `embed` and `blocks.{l}.resid_pre` at l / n, `resid_mid` at (l + 1/2) / n,
`resid_post` at (l + 1) / n (n = the model's blocks, so 0 is the embedding and 1 the last block's output). Toy lens
sites are every residual state but `ln_final`; the LLM's are each block's input and the final residual.
KL(Bayes ‖ lens) is in nats over the process's tokens (the LLM's lens read out over the symbol tokens only); toy
rows are held-out prefixes weighted by probability, LLM rows held-out (sequence, position) pairs weighted uniformly.
"""

import re
from pathlib import Path

import numpy as np

from analysis.figures.canvas import new_figure, save_figure
from analysis.figures.labels import kl_shown
from experiments.report.html import figure, table
from models.config import ConfigError

LENS_KINDS = ("logit", "tuned", "shared")
MARKERS = {"logit": "o", "tuned": "s", "shared": "^"}
SITE = re.compile(r"blocks\.(\d+)\.resid_(pre|mid|post)")
OFFSET = {"pre": 0.0, "mid": 0.5, "post": 1.0}  # blocks passed within block l


def _has_kl_bayes(section) -> bool:
    return isinstance(section, dict) and "sites" in section and "kl_bayes" in (section.get("logit") or {})


def toy_lens_section(run: str, analysis: dict) -> dict:
    """The toy run's trained-model lens section, or a one-line error saying how to add it."""
    lenses = analysis.get("lenses")
    section = lenses.get("trained") if isinstance(lenses, dict) else None
    if not _has_kl_bayes(section):
        raise ConfigError(
            f"compare: toy run {run} has no lens results (analysis.json lenses.trained): add them with "
            f"`belieflab lens {run}` (or train with lens.enabled=true)"
        )
    return section


def probe_lens_section(run: str, result: dict) -> dict:
    """The probe-llm run's lenses against Bayes, or a one-line error saying which stage writes them."""
    section = result.get("lenses")
    if not _has_kl_bayes(section):
        raise ConfigError(
            f"compare: probe-llm run {run} has no lenses against Bayes (analysis.json lenses): rerun "
            "`belieflab probe-llm`, whose lens stage writes them (--tuned-steps adds the tuned lens)"
        )
    return section


def site_depth(sites) -> np.ndarray:
    """`[S]` blocks passed / blocks for residual site names (see the module); a site named otherwise is a one-line
    error."""
    parsed = []
    for site in sites:
        match = SITE.fullmatch(site)
        if site != "embed" and match is None:
            raise ConfigError(f"compare: lens site {site!r} is not embed or blocks.<l>.resid_pre|mid|post")
        parsed.append((0, "pre") if match is None else (int(match[1]), match[2]))
    blocks = max(layer + OFFSET[kind] for layer, kind in parsed) or 1.0
    return np.array([(layer + OFFSET[kind]) / blocks for layer, kind in parsed])


def lens_bayes_depth(section: dict) -> dict:
    """`{lens: (sites, depth_S, kl_bayes_S)}` for the lenses present (KL in nats, clipped at 0)."""
    sites = list(section["sites"])
    depth = site_depth(sites)
    return {
        lens: (sites, depth, kl_shown(section[lens]["kl_bayes"]))
        for lens in LENS_KINDS
        if "kl_bayes" in (section.get(lens) or {})
    }


def lens_bayes_inputs(toy: dict[str, dict], probes: dict[str, dict]) -> dict[str, tuple[str, dict]]:
    """`{run: (kind, lens section)}`, every run checked before anything is written."""
    return {name: ("toy", toy_lens_section(name, a)) for name, a in toy.items()} | {
        name: ("LLM", probe_lens_section(name, r)) for name, r in probes.items()
    }


def lens_bayes_sections(runs: dict[str, tuple[str, dict]], out_dir: Path) -> list[tuple[str, str]]:
    """The figure (KL(Bayes ‖ lens) against relative depth) and its table for `compare.html`."""
    fig = new_figure(7.5, 4.2)
    ax = fig.subplots()
    rows = []
    colours = ("tab:blue", "tab:red", "tab:green", "tab:purple", "tab:brown") * 4
    for colour, (name, (kind, section)) in zip(colours, runs.items()):
        for lens, (sites, depth, kl) in lens_bayes_depth(section).items():
            style = "-" if kind == "LLM" else "--"
            ax.plot(depth, kl, style, marker=MARKERS[lens], ms=3, color=colour, label=f"{name} ({kind}): {lens}")
            rows += [[name, kind, lens, s, f"{d:.3f}", f"{v:.4f}"] for s, d, v in zip(sites, depth, kl)]
        own = (section.get("model") or {}).get("kl_bayes")
        if own is not None:
            ax.plot([1.0], [kl_shown(own)], "*", ms=9, color=colour, label=f"{name} ({kind}): model output")
            rows.append([name, kind, "model output", "-", "1.000", f"{kl_shown(own):.4f}"])
    ax.set_yscale("log")
    ax.set_xlabel("relative depth (blocks passed / blocks; 0 = embedding, 1 = last block's output)")
    ax.set_ylabel("KL(Bayes ‖ lens), nats")
    ax.legend(fontsize=7, ncol=2)
    path = save_figure(fig, Path(out_dir) / "figures" / "compare_lens_bayes_depth.png")
    caption = (
        "Held-out KL(Bayes ‖ lens) in nats per lens site against relative depth: toy runs dashed (prefixes weighted "
        "by probability, the toy's own vocabulary), the LLM solid (uniform (sequence, position) rows, read out over "
        "the symbol tokens and renormalised); stars: each model's own output."
    )
    return [
        ("Lens KL to Bayes by relative depth", figure(path, caption)),
        (
            "Lens KL to Bayes per site",
            table(rows, ["run", "kind", "lens", "site", "relative depth", "KL(Bayes ‖ lens), nats"]),
        ),
    ]
