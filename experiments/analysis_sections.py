"""Which `analysis.json` section holds the numbers of each figure, and sections kept across a re-analysis."""

from experiments.config.experiment import RENAMED_SECTIONS as RENAMED  # sections' old names in older files

# (figure-key prefix, section); the first matching prefix wins
FIGURE_SECTIONS = (
    ("interventions_", "interventions"),
    ("lens_", "lenses"),
    ("icl_", "icl"),
    ("geometry_by_length", "ladder"),
    ("ladder", "ladder"),
    ("r2_vs_tokens", "training"),
    ("emergence", "training"),
    ("training_curves", "loss"),
    ("geometry", "trained"),
    ("r2_by_site", "trained"),
)


def figure_section(key: str) -> str | None:
    """The section whose numbers figure `key` draws (None for a figure of no known section)."""
    return next((section for prefix, section in FIGURE_SECTIONS if key.startswith(prefix)), None)


def _has(report: dict, section: str) -> bool:
    return bool(report.get(section)) or any(bool(report.get(old)) for old, new in RENAMED.items() if new == section)


def figures_with_numbers(report: dict) -> dict:
    """`report["figures"]` without the figures whose section is absent (a figure never outlives its numbers)."""
    return {
        key: path
        for key, path in (report.get("figures") or {}).items()
        if (section := figure_section(key)) is None or _has(report, section)
    }


def carry_over(old: dict, new: dict, run_dir) -> list[str]:
    """Copy into `new` every section of `old` (an earlier analysis.json of the same final model) that `new` lacks
    (e.g. `interventions` or `lenses` added by their own commands and not re-run), with its figures whose files
    exist; returns the names of the sections kept."""
    from pathlib import Path

    kept = [
        k for k, v in old.items() if k not in new and k != "figures" and v and not (k in RENAMED and RENAMED[k] in new)
    ]
    sections = {RENAMED.get(k, k) for k in kept}
    for key in kept:
        new[key] = old[key]
    figures = new.setdefault("figures", {})
    for key, path in (old.get("figures") or {}).items():
        if key not in figures and figure_section(key) in sections and (Path(run_dir) / path).is_file():
            figures[key] = path
    return kept


# each part of the interventions section and the setting that turns its recomputation on
INTERVENTION_PARTS = (
    ("patching", "num_pairs"),
    ("carry_forward", "carry_pairs"),
    ("steering", "steering_pairs"),
    ("prior_shift", "prior_shift"),
)


def keep_earlier_parts(old: dict | None, new: dict, settings) -> dict:
    """`new` (an interventions section) with each part its `settings` (an InterventionsConfig) did not recompute
    taken from `old`, the section already in the run, where it has one; `kept_from_earlier` names those parts and
    `figures` lists the figures of both."""
    old = old or {}
    kept = [part for part, field in INTERVENTION_PARTS if not getattr(settings, field) and old.get(part)]
    merged = dict(new)
    for part in kept:
        merged[part] = old[part]
    merged["figures"] = {**(old.get("figures") or {}), **(new.get("figures") or {})} if kept else new.get("figures")
    merged["kept_from_earlier"] = kept
    return merged
