"""The report table of the in-context stage: loss at a few positions for every curve."""

from analysis.icl.curves import CURVE_LABELS


def shown_positions(positions: list) -> list:
    """Indices of tokens-seen 1, 2, 4, 8, ... and the last position."""
    picked = [i for i, p in enumerate(positions) if p & (p - 1) == 0]
    return picked + ([len(positions) - 1] if picked[-1] != len(positions) - 1 else [])


def _number(value) -> str:
    return "—" if value is None else f"{value:.4f}"


TARGET_COLUMNS = [
    "target",
    "best site",
    "R²",
    "held-out R²",
    "held-out null q99",
    "untrained R²",
    "token history, linear: held-out R²",
    "token history, lookup: held-out R²",
]


def target_rows(report: dict) -> list:
    """One row per in-context regression target: the best site's R², held-out R², shuffle-null q99, untrained
    control, and the best token-history baselines' held-out R² (from the ladder, probability weighting)."""
    history = (((report.get("ladder") or {}).get("weightings") or {}).get("prob") or {}).get("icl_targets") or {}
    rows = []
    for target in ("component", "transition", "transition_dirichlet"):
        head = (report.get("headline") or {}).get(target)
        if head is None:
            continue
        base = history.get(target, {})
        linear, lookup = base.get("best_linear") or {}, base.get("best_lookup") or {}
        rows.append(
            [
                target,
                head["site"],
                _number(head["r2"]),
                _number(head["cv_r2"]),
                _number(head["cv_null_q99"]),
                _number(head["untrained_r2"]),
                f"{_number(linear.get('cv_r2'))} (k={linear.get('k', '—')})",
                f"{_number(lookup.get('cv_r2'))} (k={lookup.get('k', '—')})",
            ]
        )
    return rows


def icl_tables(report: dict) -> list:
    """`[(title, header, rows, note)]` for `write_run_report`; empty without `report["icl"]`."""
    section = report.get("icl")
    if not section:
        return []
    tables = []
    rows = target_rows(report)
    if rows:
        tables.append(
            (
                "In-context targets: the residual stream against token history",
                TARGET_COLUMNS,
                rows,
                "Best single site by R² (probability-weighted); baselines use only the last k tokens and the "
                "position (best k, held out over the ladder's stratified folds).",
            )
        )
    idx = shown_positions(section["positions"])
    header = ["predictor"] + [f"{section['positions'][i]} seen" for i in idx] + ["mean"]
    rows = [
        [CURVE_LABELS[name]] + [f"{curve[i]:.4f}" for i in idx] + [f"{section['mean'][name]:.4f}"]
        for name, curve in section["curves"].items()
    ]
    average = (
        "every sequence, weighted by probability"
        if section["exact"]
        else f"{section['num_sequences']:,} sampled sequences (fixed)"
    )
    note = (
        f"Expected next-token loss (nats) against the training process's Bayes distribution, over {average}. "
        f"Model / Bayes at the last position: {section['relative_last']:.4f}."
    )
    return [("In-context loss by position", header, rows, note)] + tables
