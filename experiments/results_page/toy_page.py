"""The page of toy (or lens-llm) runs below its header: the headline figure copied beside the docs, the tables
(one regression table per target), and each run's ladder, lens table, in-context loss and interventions."""

from pathlib import Path

from experiments.results_page.common import copy_figure, fmt, r2
from experiments.results_page.toy import Run
from experiments.results_page.toy_icl import icl_table, icl_targets_table
from experiments.results_page.toy_interventions import interventions_section
from experiments.results_page.toy_tables import headline, ladder, training
from experiments.results_page.toy_targets import target_tables

HEADLINE_FIGURE = "geometry"
LENS_METHODS = ("logit", "tuned", "shared")


def lens_table(run: Run) -> list[str]:
    """Held-out KL(model ‖ lens) per site for the logit, tuned and shared lenses (toy runs: with belief R²)."""
    section = (run.section("lenses", "trained") if run.analysis else None) or run.lenses
    if not section or "sites" not in section:
        return []
    belief = run.section("lenses", "belief") or {}
    methods = [m for m in LENS_METHODS if section.get(m)]
    header = "| site | " + " | ".join(f"KL(model ‖ {m})" for m in methods) + (" | belief R² |" if belief else " |")
    lines = [
        f"## Lenses (`{run.path.name}`, held-out rows, nats)",
        "",
        header,
        "| --- |" + " --- |" * (len(methods) + bool(belief)),
    ]
    belief_r2 = dict(zip(belief.get("sites", []), belief.get("r2", [])))
    for i, site in enumerate(section["sites"]):
        cells = [fmt(section[m]["kl_model"][i]) if i < len(section[m]["kl_model"]) else "–" for m in methods]
        if belief:
            cells.append(r2(belief_r2.get(site)))
        lines.append(f"| `{site}` | " + " | ".join(cells) + " |")
    return lines + [""]


def figure(runs: list[Run], out: Path, images: Path) -> list[str]:
    """Copy the first run's headline figure next to the docs and link it."""
    relative = (runs[0].section("figures") or {}).get(HEADLINE_FIGURE)
    if not relative:
        return []
    alt = f"The belief geometry of `{runs[0].path.name}`: ground truth beside each site's regression"
    return copy_figure(runs[0].path / relative, out, images, HEADLINE_FIGURE, alt)


def toy_sections(runs: list[Run], out: Path, images: Path) -> list[str]:
    """Everything below the header of a page of toy (or lens-llm) runs."""
    parts = figure(runs, out, images) + headline(runs) + training(runs) + target_tables(runs)
    for run in runs:
        parts += ladder(run) + lens_table(run) + icl_table(run) + icl_targets_table(run)
        parts += interventions_section(run)
    return parts
