"""Figures without pyplot: an Agg-backed `Figure` (no display, no global backend switch) and an atomic PNG save."""

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analysis.atomic import atomic_file


def new_figure(width: float, height: float) -> Figure:
    """A figure drawn by Agg whatever backend the caller's session uses."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def drawable_text(text: str, limit: int | None = None) -> str:
    """`text` as a figure can show it: control characters and whitespace escaped as Python writes them, and
    every character the default font has no glyph for (CJK, emoji, ...) as its code point (\\u4e2d), so the
    figure never shows empty boxes nor warns about missing glyphs; `limit`: the first so many characters of
    `text` (each escape kept whole)."""
    from matplotlib import rcParams
    from matplotlib.font_manager import FontProperties, findfont, get_font

    font = get_font(findfont(FontProperties(family=rcParams["font.family"])))

    def one(c: str) -> str:
        if c.isprintable() and font.get_char_index(ord(c)):
            return c
        if not c.isprintable():
            return repr(c)[1:-1]  # \n, \t, \x00
        return f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}"

    return "".join(one(c) for c in text[:limit])


def save_figure(fig: Figure, path, dpi: int = 150) -> Path:
    """Write `fig` to `path` (format from the suffix, PNG by default) via a temporary file and a rename."""
    path = Path(path)
    with atomic_file(path) as handle:
        fig.savefig(handle, format=path.suffix.lstrip(".").lower() or "png", dpi=dpi)
    return path
