"""The toy page's interventions section: the patching and steering summaries and the prior-shift table, the
rows built by report.html's own table functions (`experiments.report.interventions`)."""

from experiments.report.interventions import interventions_tables
from experiments.results_page.common import fmt, table
from experiments.results_page.toy import Run

ROUNDING = 1e-12  # smaller magnitudes (an R² of -2e-16) print as zero


def _cell(value) -> str:
    """A number as the page prints it ("–" for a missing one), other cells as they are."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt(0.0 if abs(value) < ROUNDING else value)
    return fmt(value) if value is None else str(value)


def interventions_section(run: Run) -> list[str]:
    """Every interventions table of report.html as Markdown (numbers to four decimals) under one heading, with
    what the tables cannot say (parts kept from an earlier run, carry-forward pairs not found); nothing without
    the section."""
    section = run.section("interventions")
    tables = interventions_tables(run.analysis) if section else []
    if not tables:
        return []
    notes = []
    carry = (section.get("carry_forward") or {}).get("note")
    if carry:
        notes.append(f"Same-prediction pairs carried forward: none measured ({carry}).")
    if section.get("kept_from_earlier"):
        notes.append(
            f"Kept from an earlier run of the stage (not recomputed): {', '.join(section['kept_from_earlier'])}."
        )
    lines = [f"## Interventions (`{run.path.name}`)", ""] + ([" ".join(notes), ""] if notes else [])
    for title, header, rows, *note in tables:
        lines += [f"### {title}", ""]
        lines += table(header, [[f"`{row[0]}`"] + [_cell(c) for c in row[1:]] for row in rows])
        lines += [note[0], ""] if note else []
    return lines
