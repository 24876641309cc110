"""One self-contained HTML page per run (figures embedded), readable without the code."""

import base64
import html
import json
from pathlib import Path

from analysis.atomic import atomic_write_text, read_jsonl
from models.config import ConfigError

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .5em 0; } td, th { padding: .25em .8em; border: 1px solid #ddd; }
th { background: #f4f4f4; text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; } img { max-width: 100%; }
figcaption { color: #555; font-size: .9em; } pre { background: #f8f8f8; padding: .8em; overflow-x: auto; }
div.wide { max-width: 100%; overflow-x: auto; } nav.toc { background: #f8f8f8; padding: .4em 1em; }
nav.toc ol { margin: .3em 0; columns: 2; } nav.toc a { text-decoration: none; }
"""


def embed_image(path: Path) -> str:
    """An <img> with the file's bytes inlined as a data URI (PNG or GIF)."""
    mime = "image/gif" if path.suffix.lower() == ".gif" else "image/png"
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img src="data:{mime};base64,{data}" alt="{html.escape(path.stem)}">'


def figure(path: Path, caption: str) -> str:
    return f"<figure>{embed_image(path)}<figcaption>{html.escape(caption)}</figcaption></figure>"


def table(rows: list[list], header: list[str]) -> str:
    """An HTML table (scrolling sideways inside the page when wider than it); None prints as "–"."""

    def cell(v):
        if isinstance(v, float):  # rounding noise around an exact zero prints as 0
            return f'<td class="num">{0.0 if abs(v) < 1e-12 else v:.6g}</td>'
        return f"<td>{'–' if v is None else html.escape(str(v))}</td>"

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f"<div class='wide'><table><tr>{head}</tr>{body}</table></div>"


def paragraph(text: str = "") -> str:
    return f"<p>{html.escape(text)}</p>" if text else ""


def page(title: str, sections: list[tuple[str, str]]) -> str:
    """The whole page: the title, a linked table of contents of the non-empty sections, then the sections."""
    shown = [(f"s{i}", h, body) for i, (h, body) in enumerate(s for s in sections if s[1])]
    toc = "".join(f"<li><a href='#{anchor}'>{html.escape(h)}</a></li>" for anchor, h, _ in shown)
    parts = [f"<h2 id='{anchor}'>{html.escape(h)}</h2>{body}" for anchor, h, body in shown]
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<nav class='toc'><strong>Contents</strong><ol>{toc}</ol></nav>{''.join(parts)}</body></html>"
    )


def figures_html(figure_dir: Path, captions: dict[str, str], paths: dict[str, str] | None = None) -> str:
    """Every figure in the folder (or only `paths`, `{key: path relative to the folder's parent}`, when given),
    known ones first in `captions` order, each with its caption."""
    if paths is None:
        named = {p.stem: p for p in sorted(figure_dir.glob("*")) if p.suffix.lower() in (".png", ".gif")}
    else:
        named = {key: figure_dir.parent / path for key, path in paths.items() if (figure_dir.parent / path).is_file()}
    order = {name: i for i, name in enumerate(captions)}
    keys = sorted(named, key=lambda k: (order.get(k, order.get(named[k].stem, len(order))), named[k].name))
    return "".join(figure(named[k], captions.get(k, captions.get(named[k].stem, k.replace("_", " ")))) for k in keys)


def write_run_report(
    run_dir,
    summary_rows: list[list],
    captions: dict[str, str],
    tables=(),
    sections=(),
    figures: dict[str, str] | None = None,
) -> Path:
    """Write `report.html` for a run from its config, metrics, analysis and figures; `tables` are extra
    `(title, header, rows)` or `(title, header, rows, note)` sections after the summary, `sections` extra
    `(title, html)` ones after them; `figures` (`{key: path relative to the run}`) the figures to show
    (default: every file in `figures/`)."""
    run_dir = Path(run_dir)
    config_text = (run_dir / "config.yaml").read_text() if (run_dir / "config.yaml").is_file() else ""
    metrics = read_jsonl(run_dir / "metrics.jsonl")
    last = metrics[-1] if metrics else {}
    metric_rows = [[k, v] for k, v in last.items() if isinstance(v, (int, float))]
    sections = [
        ("Summary", table(summary_rows, ["quantity", "value"]) if summary_rows else ""),
        *[(title, paragraph(*note) + table(rows, list(header))) for title, header, rows, *note in tables],
        *sections,
        ("Figures", figures_html(run_dir / "figures", captions, figures)),
        ("Last evaluation", table(metric_rows, ["metric", "value"]) if metric_rows else ""),
        ("Configuration (as run)", f"<pre>{html.escape(config_text)}</pre>"),
    ]
    analysis_path = run_dir / "analysis.json"
    if analysis_path.is_file():
        sections.append(
            (
                "Files",
                "<p>Every number above is in <code>analysis.json</code> and "
                "<code>metrics.jsonl</code> beside this page.</p>",
            )
        )
    out = run_dir / "report.html"
    atomic_write_text(out, page(f"belieflab run: {run_dir.name}", sections))
    return out


def write_sweep_report(sweep_dir, rows: list[list], header: list[str], figure_dir: Path | None = None) -> Path:
    """Write `report.html` for a sweep: the summary table (mean ± sd over seeds) and its figures."""
    sweep_dir = Path(sweep_dir)
    sections = [
        ("Summary over seeds", table(rows, header)),
        ("Figures", figures_html(figure_dir, {}) if figure_dir and figure_dir.is_dir() else ""),
    ]
    out = sweep_dir / "report.html"
    atomic_write_text(out, page(f"belieflab sweep: {sweep_dir.name}", sections))
    return out


def load_json(path) -> dict:
    """A run's JSON file ({} when absent); a damaged one is a one-line `ConfigError` naming its line."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ConfigError(
            f"{path}, line {err.lineno}, column {err.colno}: not valid JSON ({err.msg}); "
            f"remake it with `belieflab analyze {path.parent}`"
        ) from None
