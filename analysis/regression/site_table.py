"""The per-site table of one analysis: a row per site or concatenation, with its controls."""

from analysis.figures.labels import format_p

HEADER = ("site", "R2", "null q99", "p", "CV R2", "CV q99", "untrained", "MSE")
WIDTHS = (26, 8, 9, 8, 8, 9, 9, 9)
LONG_HEADER = (
    "site",
    "R² (weighted)",
    "shuffle null q99",
    "shuffle p",
    "held-out R² (random k-fold CV)",
    "held-out null q99",
    "untrained R²",
    "MSE (every sequence and position)",
)


def site_rows(report: dict, target: str = "belief", compact: bool = False) -> list[list]:
    """Rows of `analysis.json` content (`report`), columns as `HEADER`: in-sample R^2 with its shuffle null's
    99th percentile and p-value, held-out R^2 with its held-out null's 99th percentile, the untrained
    control's R^2, and the MSE over every sequence and position (the belief-geometry paper's number).
    The p-value is text: "p ≤ 0.001 (1,000 permutations)" (`compact`: "≤0.001")."""
    rows = []
    for group, res in report["trained"].items():
        t = res["targets"][target]
        shuffle, cv = t.get("shuffle") or {}, t.get("cv") or {}
        untrained = (report.get("untrained") or {}).get(group, {}).get("targets", {}).get(target, {})
        p_value = format_p(shuffle.get("p_value"), shuffle.get("num_permutations"), compact)
        rows.append(
            [
                group,
                t["r2"],
                shuffle.get("q99"),
                p_value,
                cv.get("r2"),
                (cv.get("shuffle") or {}).get("q99"),
                untrained.get("r2"),
                t.get("mse_paper"),
            ]
        )
    return rows


def site_table(report: dict, target: str = "belief", indent: str = "") -> str:
    """`site_rows` as fixed-width plain text."""
    head = indent + " ".join(f"{h:{'<' if i == 0 else '>'}{w}s}" for i, (h, w) in enumerate(zip(HEADER, WIDTHS)))
    lines = [head]
    for group, *cells in site_rows(report, target, compact=True):
        lines.append(f"{indent}{group:{WIDTHS[0]}s} " + " ".join(_fmt(c, w) for c, w in zip(cells, WIDTHS[1:])))
    return "\n".join(lines)


def _fmt(value, width: int) -> str:
    if value is None:
        return f"{'-':>{width}s}"
    if isinstance(value, str):
        return f"{value:>{width}s}"
    return f"{value:>{width}.2e}" if abs(value) < 1e-3 and value != 0 else f"{value:>{width}.4f}"
