"""What every kind of results page shares: numbers as the page prints them, Markdown tables, and the header
(date, machine, load, versions, command)."""

import datetime
import json
import os
import shlex
import shutil
from pathlib import Path

import numpy as np

from analysis.figures.labels import format_r2
from analysis.ladder.heldout_summary import mean_sd as summarise

NOT_RECORDED = "not recorded in the run directory"
MAX_LIST = 12  # a generic section prints numeric lists up to this long
MAX_ROWS = 60  # and at most this many values


def fmt(value, digits: int = 4) -> str:
    """A number as printed in the page ("–" for a missing one)."""
    if value is None:
        return "–"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{value:,}"
    value = float(value)
    if value != 0 and abs(value) < 10 ** -(digits - 1):
        return f"{value:.2e}"
    return f"{value:,.{digits}f}"


def r2(value) -> str:
    """An R² as the lab prints it (enough decimals that 1 − R² keeps two significant digits)."""
    return format_r2(value) if value is not None else "–"


def sd(value) -> str:
    """A standard deviation to two significant digits."""
    return "–" if value is None else f"{value:.2g}"


def spread(summary, show=r2) -> str:
    """`mean ± sd` of a `{mean, sd}` summary (just the mean when sd is None), the mean printed by `show`."""
    if not summary or summary.get("mean") is None:
        return "–"
    return show(summary["mean"]) if summary.get("sd") is None else f"{show(summary['mean'])} ± {sd(summary['sd'])}"


def mean_sd(values, show=r2) -> str:
    """`mean ± sd` (ddof 1) over the values that are present."""
    return spread(summarise(values), show)


def get(tree, *keys):
    """`tree[k0][k1]...`, or None where any level is missing."""
    for key in keys:
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


def table(columns: list[str], rows: list[list]) -> list[str]:
    """A Markdown table (cells already formatted) and the blank line after it."""
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows] + [""]


def modified_date(path: Path) -> datetime.date:
    """The UTC date a file was last written."""
    return datetime.datetime.fromtimestamp(Path(path).stat().st_mtime, datetime.UTC).date()


def machine_text(env: dict) -> str:
    if not env:
        return "not recorded"
    devices = ", ".join(env.get("devices", [])) or "not recorded"
    return (
        f"{env.get('cpu', 'CPU not recorded')}, {env.get('cpu_count', '?')} cores; JAX backend "
        f"{env.get('backend', '?')} ({devices}); {env.get('platform', '')}"
    )


def load_text(env: dict) -> str:
    """The 1-minute load average(s) the run recorded: at its start and end, or when its results were written."""
    start, end = env.get("load_average_1min"), env.get("load_average_1min_end")
    if start is None:
        return NOT_RECORDED
    if end is None:
        return f"1-minute load average {start:.2f} when the results were written"
    return f"1-minute load average {start:.2f} at the start, {end:.2f} at the end"


def header(runs, argv: list[str]) -> list[str]:
    """Title and the date / machine / load / versions / command table; each run has `name`, `subject`, `path`,
    `recorded` (a date), `environment` (a dict, empty when not recorded) and `command` (None when not recorded)."""
    env = runs[0].environment
    dates = sorted({r.recorded for r in runs})
    date = dates[0].isoformat() if len(dates) == 1 else f"{dates[0].isoformat()} to {dates[-1].isoformat()}"
    versions = ", ".join(f"{k} {env[k]}" for k in ("python", "jax", "jaxlib", "numpy") if k in env) or "not recorded"
    commands = sorted({r.command for r in runs if r.command})
    missing = sum(r.command is None for r in runs)
    command = "; ".join(f"`{c}`" for c in commands)
    if missing:
        command += ("; " if command else "") + f"{NOT_RECORDED} ({missing} of {len(runs)} runs; settings below)"
    return [
        f"# {', '.join(sorted({r.name for r in runs}))}: {runs[0].subject} ({date})",
        "",
        "| | |",
        "| --- | --- |",
        f"| date | {date} (when the runs' results were written, UTC) |",
        f"| machine | {machine_text(env)} |",
        f"| load | {load_text(env)} |",
        f"| versions | {versions} |",
        f"| command | {command} |",
        f"| runs | {', '.join(f'`{r.path}`' for r in runs)} |",
        "",
        "Generated from the run directories' files by",
        "",
        "```",
        f"python -m experiments.results_page {shlex.join(argv)}",
        "```",
        "",
    ]


def copy_figure(source: Path, out: Path, images: Path, name: str, alt: str) -> list[str]:
    """Copy a run's figure to `images/<page stem>-<name>.png` and link it from the page (nothing if it is absent)."""
    if not Path(source).is_file():
        return []
    images.mkdir(parents=True, exist_ok=True)
    target = images / f"{out.stem}-{name}.png"
    shutil.copyfile(source, target)
    return [f"![{alt}]({os.path.relpath(target, out.parent)})", ""]


def _leaf_text(value) -> str:
    if isinstance(value, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        if len(value) <= MAX_LIST:
            return ", ".join(fmt(v) for v in value)
        return f"{len(value)} values, mean {fmt(float(np.mean(value)))} (not shown)"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt(value)
    text = str(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def generic_section(name: str, tree) -> list[str]:
    """A section this page has no table for, printed as its values by path (long lists summarised)."""
    rows, stack = [], [(name, tree)]
    while stack:
        path, value = stack.pop(0)
        if isinstance(value, dict) and value:
            stack = [(f"{path}.{k}", v) for k, v in value.items()] + stack
        else:
            rows.append([f"`{path}`", _leaf_text(value).replace("|", "\\|")])
    shown = rows[:MAX_ROWS]
    note = [f"{len(rows) - MAX_ROWS} further values not shown.", ""] if len(rows) > MAX_ROWS else []
    intro = f"The run has a `{name}` section this page has no dedicated table for; its values by path:"
    return [f"## `{name}`", "", intro, ""] + table(["path", "value"], shown) + note


class JsonRun:
    """A run directory whose results are one JSON file (the LLM commands): read once, with the header's fields."""

    def __init__(self, path, filename: str):
        self.path = Path(path)
        source = self.path / filename
        self.result = json.loads(source.read_text())
        self.recorded = modified_date(source)
        self.name = self.path.name
        self.environment = self.result.get("environment") or {}
        self.command = self.result.get("command")
