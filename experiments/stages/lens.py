"""The lens stage of a run: every lens on the final model, into `report["lenses"]` and the figures."""

from pathlib import Path

import hmm
from analysis.lenses.figures import draw_lens_figures
from analysis.lenses.toy import toy_lenses


def lens_stage(config, process: hmm.Process, run_dir: Path, model, report: dict, tree=None,
               progress: bool = False) -> dict:
    """Run the lenses `config.lens` asks for on `model`; adds `report["lenses"]` and lens figure paths."""
    lc = config.lens
    if not lc.enabled:
        return report
    seed = config.train.seed
    section = toy_lenses(model, process, sites=lc.sites, recipe=lc.recipe(seed), heldout_fraction=lc.heldout_fraction,
                         tuned=lc.tuned, shared=lc.shared, transfer=lc.transfer, belief=lc.belief, future=lc.future,
                         horizons=lc.horizons, future_recipe=lc.future_recipe(seed), untrained=lc.untrained_control,
                         seed=seed, tree=tree, progress=progress)
    report["lenses"] = section
    if lc.figures:
        title = f"{config.name}: {hmm.display_name(process)}"
        report.setdefault("figures", {}).update(draw_lens_figures(section, run_dir, title=title))
    return report


def lens_sections(run_dir, report: dict) -> list:
    """The report.html section of the lenses (see `experiments.report.lens`)."""
    from experiments.report.lens import lens_sections as sections

    return sections(run_dir, report)
