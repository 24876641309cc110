"""The lens section of report.html: per-site lens tables and figures, runs side by side when compared."""

import html
from pathlib import Path

import numpy as np

from analysis.figures.labels import kl_shown
from experiments.report.html import figure, load_json, table

CAPTIONS = {
    "lens_kl": "Held-out KL(model ‖ lens) (left) and KL(Bayes ‖ lens) (right) per site for the logit, tuned and "
    "shared lenses, in bits (a KL is never negative: rounding noise is shown as 0); dashed: the tuned "
    "lens of the untrained model; dotted: the model's own KL to Bayes.",
    "lens_transfer": "Transfer penalty: KL of the tuned lens trained at site i applied at site j, minus site j's "
    "own lens (bits).",
    "lens_logit_grid": "The logit lens on one sequence: each cell the top token at that site and position, "
    "coloured by its probability.",
    "lens_future": "Future lens: how well each site predicts tokens further ahead, against the Bayes ceiling "
    "(dashed) and a prefix-blind baseline (dotted).",
}
HEADER = [
    "site",
    "KL(model‖logit)",
    "KL(model‖tuned)",
    "KL(model‖shared)",
    "KL(Bayes‖tuned)",
    "tuned, untrained model",
    "mean transfer penalty in",
    "belief R² (held out)",
]


def site_rows(section: dict) -> list[list]:
    """One row per site (nats): the lenses' KL curves, the untrained control, the mean tuned-lens transfer
    penalty of the other sites' lenses applied here, and the belief lens's held-out R²."""
    t = section["trained"]
    control = (section.get("untrained") or {}).get("tuned") or {}
    penalty = t.get("transfer", {}).get("kl_model_penalty")
    belief = section.get("belief") or {}
    rows = []

    def get(part, key: str, i: int):
        return (part or {}).get(key, [None] * (i + 1))[i]

    for i, site in enumerate(t["sites"]):
        others = None if penalty is None else float(np.delete(np.asarray(penalty)[:, i], i).mean())
        kls = [
            kl_shown(get(part, key, i))
            for part, key in (
                (t["logit"], "kl_model"),
                (t.get("tuned"), "kl_model"),
                (t.get("shared"), "kl_model"),
                (t.get("tuned"), "kl_bayes"),
                (control, "kl_model"),
            )
        ]
        rows.append([site, *kls, others, (belief.get("r2") or [None] * (i + 1))[i]])
    return [[r[0], *("" if v is None else float(v) for v in r[1:])] for r in rows]


def text_table(rows: list[list], header: list[str], indent: str = "") -> str:
    """Rows as fixed-width console columns (numbers right-aligned to 4 significant digits, "–" when empty),
    each column as wide as its widest cell or header."""
    cells = [
        [f"{v:.4g}" if isinstance(v, float) else ("–" if v in ("", None) else str(v)) for v in row] for row in rows
    ]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]

    def line(values):
        return indent + "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths)))

    return "\n".join([line(list(header))] + [line(r) for r in cells])


def _run_block(run_dir: Path, report: dict) -> str:
    section = report["lenses"]
    figures = "".join(
        figure(run_dir / path, CAPTIONS.get(key, key.replace("_", " ")))
        for key, path in report.get("figures", {}).items()
        if key.startswith("lens_") and (run_dir / path).is_file()
    )
    return (
        f"<div style='flex: 1 1 480px; min-width: 0; max-width: 100%'><h3>{html.escape(run_dir.name)}</h3>"
        f"{table(site_rows(section), HEADER)}{figures}</div>"
    )


def lens_sections(run_dir, report: dict) -> list[tuple[str, str]]:
    """`[(title, html)]` for report.html: this run's lenses, beside the runs in `lenses.compare_with`."""
    if not report.get("lenses"):
        return []
    runs = [(Path(run_dir), report)]
    for other in report["lenses"].get("compare_with", []):
        other_report = load_json(Path(other) / "analysis.json")
        if other_report.get("lenses") and Path(other).resolve() != Path(run_dir).resolve():
            runs.append((Path(other), other_report))
    note = (
        "<p>Held-out prefixes, probability-weighted; nats. Tuned lens: one affine translator per site trained "
        "on KL(model ‖ lens); shared: one translator for all sites; transfer penalty: KL of lens i at site j "
        "minus lens j at site j (figures in bits).</p>"
    )
    blocks = "".join(_run_block(d, r) for d, r in runs)
    return [("Lenses", f"{note}<div style='display: flex; gap: 1em; flex-wrap: wrap'>{blocks}</div>")]
