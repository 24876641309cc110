"""The lens section of report.html: per-site lens tables and figures, runs side by side when compared."""

import html
from pathlib import Path

import numpy as np

from experiments.report.html import embed_image, load_json, table

HEADER = ["site", "KL(model‖logit)", "KL(model‖tuned)", "KL(model‖shared)", "KL(Bayes‖tuned)",
          "tuned, untrained model", "mean transfer penalty in", "belief R² (held out)"]


def site_rows(section: dict) -> list[list]:
    """One row per site (nats): the lenses' KL curves, the untrained control, the mean tuned-lens transfer
    penalty of the other sites' lenses applied here, and the belief lens's held-out R²."""
    t = section["trained"]
    control = (section.get("untrained") or {}).get("tuned") or {}
    penalty = t.get("transfer", {}).get("kl_model_penalty")
    belief = section.get("belief") or {}
    rows = []
    for i, site in enumerate(t["sites"]):
        def get(part, key="kl_model"):
            return (part or {}).get(key, [None] * (i + 1))[i]

        others = None if penalty is None else float(np.delete(np.asarray(penalty)[:, i], i).mean())
        rows.append([site, get(t["logit"]), get(t.get("tuned")), get(t.get("shared")), get(t.get("tuned"), "kl_bayes"),
                     get(control), others, (belief.get("r2") or [None] * (i + 1))[i]])
    return [[r[0], *("" if v is None else float(v) for v in r[1:])] for r in rows]


def _run_block(run_dir: Path, report: dict) -> str:
    section = report["lenses"]
    figures = "".join(embed_image(run_dir / path) for key, path in report.get("figures", {}).items()
                      if key.startswith("lens_") and (run_dir / path).is_file())
    return (f"<div style='flex: 1; min-width: 480px; max-width: 100%; overflow-x: auto'><h3>{html.escape(run_dir.name)}</h3>"
            f"{table(site_rows(section), HEADER)}{figures}</div>")


def lens_sections(run_dir, report: dict) -> list[tuple[str, str]]:
    """`[(title, html)]` for report.html: this run's lenses, beside the runs in `lenses.compare_with`."""
    if not report.get("lenses"):
        return []
    runs = [(Path(run_dir), report)]
    for other in report["lenses"].get("compare_with", []):
        other_report = load_json(Path(other) / "analysis.json")
        if other_report.get("lenses") and Path(other).resolve() != Path(run_dir).resolve():
            runs.append((Path(other), other_report))
    note = ("<p>Held-out prefixes, probability-weighted; nats. Tuned lens: one affine translator per site trained "
            "on KL(model ‖ lens); shared: one translator for all sites; transfer penalty: KL of lens i at site j "
            "minus lens j at site j (figures in bits).</p>")
    blocks = "".join(_run_block(d, r) for d, r in runs)
    return [("Lenses", f"{note}<div style='display: flex; gap: 1em; flex-wrap: wrap'>{blocks}</div>")]
