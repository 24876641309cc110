"""The ladder as table rows: baselines, prediction-only ceiling, controls, network, per weighting."""

from analysis.figures.labels import count


def _pm(entry) -> str:
    if not entry or entry.get("mean") is None:
        return "-"
    sd = entry.get("sd")
    return f"{entry['mean']:.5f}" + (f" ± {sd:.5f}" if sd is not None else "")


def _f(value) -> str:
    return "-" if value is None else f"{value:.5f}"


def _ratio(entry) -> str:
    if entry is None:
        return "-"
    if entry.get("baseline_perfect"):
        return "baseline perfect"
    return "-" if entry.get("ratio") is None else f"{entry['ratio']:.3g}"


HEADER = (
    "rung",
    "R² in sample",
    "held-out R² (folds stratified by belief, mean ± sd over fold seeds)",
    "network's held-out 1 − R² ÷ this",
)


def ladder_rows(ladder: dict, weighting: str, group: str) -> list[list]:
    """Rows of `HEADER` for one weighting, the network read at `group`."""
    section = ladder["weightings"][weighting]
    history, ratios = section["token_history"], section["ratios"][group]
    rows = []
    for kind, label in (
        ("linear", "linear on one-hot last {k} + position"),
        ("lookup", "lookup of (length, last {k})"),
    ):
        by_k = {r["k"]: r for r in ratios[kind]}
        shown = sorted({1, section["token_history"][f"best_{kind}"]["k"], history[kind][-1]["k"]})
        for b in history[kind]:
            if b["k"] in shown:
                rows.append(
                    [label.format(k=count(b["k"], "token")), _f(b["r2"]), _pm(b["cv"]["r2"]), _ratio(by_k[b["k"]])]
                )
    ceiling = section["prediction_ceiling"]
    rows.append(
        ["affine map of the Bayes next-token distribution", _f(ceiling["affine_r2"]), _pm(ceiling["affine_cv"]), "-"]
    )
    rows.append(["best function of the Bayes next-token distribution", _f(ceiling["best_function_r2"]), "-", "-"])
    controls = ladder["controls"].get(group, {})
    if controls.get("weighting") == weighting:
        rows.append(
            [
                f"untrained {group} (random folds)",
                _f(controls.get("untrained_r2")),
                _f(controls.get("untrained_cv_r2")),
                "-",
            ]
        )
        null = controls.get("heldout_null") or {}
        rows.append(
            [
                "held-out shuffle null (mean / q99)",
                "-",
                f"{_f(null.get('mean'))} / {_f(null.get('q99'))}" if null else "-",
                "-",
            ]
        )
    for g, net in section["network"].items():
        cv = net["cv"]
        rows.append([f"network {g}, folds stratified by belief", _f(net["r2"]), _pm(cv["r2"]), "1"])
        for subset in ("singleton_beliefs", "shared_beliefs"):
            if cv.get(subset, {}).get("num_prefixes"):
                rows.append(
                    [
                        f"  … on prefixes with {subset.replace('_', ' ')} ({cv[subset]['num_prefixes']:,})",
                        "-",
                        _pm(cv[subset]),
                        "-",
                    ]
                )
        if "leave_belief_state_out" in net:
            rows.append([f"network {g}, leave belief state out", "-", _pm(net["leave_belief_state_out"]["r2"]), "-"])
        if net.get("beyond_prediction"):
            rows.append(
                [
                    f"network {g} onto belief − E[belief | prediction]",
                    _f(net["beyond_prediction"]["r2"]),
                    _pm(net["beyond_prediction"]["cv"]),
                    "-",
                ]
            )
    return rows


def ladder_section(report: dict) -> dict | None:
    """The ladder of an `analysis.json` (written as `baselines` before the section was renamed)."""
    return report.get("ladder", report.get("baselines"))


def ladder_tables(report: dict) -> list[tuple]:
    """`(title, header, rows)` per weighting, for report.html (empty without a `baselines` section)."""
    ladder = ladder_section(report)
    if not ladder:
        return []
    group = report["headline"]["belief"]["site"]
    settings = ladder.get("settings", {})
    note = (
        f"Held-out R² in this table: {settings.get('cv_folds', 'k')} folds stratified by belief state (each belief "
        f"state with two or more prefixes is in every training fold), the mean ± sd over {settings.get('fold_seeds', 'several')} fold seeds, with "
        "rcond chosen by nested cross-validation; rows marked 'random folds' and the per-site table above use "
        "one random k-fold split instead, so the same site can show two held-out R² that differ slightly."
    )
    return [
        (
            f"Ladder: baselines, prediction-only ceiling, controls and network ({w} weighting, effective sample "
            f"size {ladder['weightings'][w]['effective_sample_size']:.0f})",
            HEADER,
            ladder_rows(ladder, w, group),
            note,
        )
        for w in ladder["weightings"]
    ]
