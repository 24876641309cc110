"""The toy page's interventions section: the patching and steering summaries and the prior-shift table, the
rows built by report.html's own table functions (`experiments.report.interventions`)."""

from experiments.report.interventions import interventions_tables
from experiments.results_page.common import fmt, table
from experiments.results_page.toy import Run


def _cell(value) -> str:
    """A number as the page prints it ("–" for a missing one), other cells as they are."""
    number = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
    return fmt(value) if number else str(value)


def interventions_section(run: Run) -> list[str]:
    """Every interventions table of report.html as Markdown (numbers to four decimals); nothing without the
    section."""
    section = run.section("interventions")
    if not section:
        return []
    lines = []
    for title, header, rows, *note in interventions_tables(run.analysis):
        lines += [f"## {title} (`{run.path.name}`)", ""]
        lines += table(header, [[f"`{row[0]}`"] + [_cell(c) for c in row[1:]] for row in rows])
        lines += [note[0], ""] if note else []
    kept = section.get("kept_from_earlier")
    if lines and kept:
        lines += [f"Kept from an earlier run of the stage (not recomputed): {', '.join(kept)}.", ""]
    return lines
