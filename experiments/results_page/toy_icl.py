"""The toy page's in-context section: the model's loss by position beside the Bayes curves and the in-context
n-gram estimators (`analysis.json`'s `icl`), at tokens seen 1, 2, 4, 8, ... and the last position."""

from analysis.icl.curves import CURVE_LABELS
from experiments.report.icl import TARGET_COLUMNS, shown_positions, target_rows
from experiments.results_page.common import fmt, table
from experiments.results_page.toy import Run

BAYES_CURVES = ("bayes", "pool", "dirichlet")


def gap_percent(model: float, reference: float) -> float:
    """How far the model's loss lies above `reference`, in percent of it."""
    return 100.0 * (model / reference - 1.0)


def icl_table(run: Run) -> list[str]:
    """Loss (nats) by tokens seen for every curve, the model's KL to the training process's Bayes predictor, and
    the last-position gap of the model to each Bayes curve in percent; nothing without an `icl` section."""
    section = run.section("icl")
    if not section:
        return []
    curves, positions = section["curves"], section["positions"]
    labels = {**CURVE_LABELS, **(section.get("labels") or {})}
    names = list(curves)
    kl = section.get("kl_to_bayes") or []
    columns = ["tokens seen"] + [labels.get(n, n) for n in names] + ["KL(Bayes ‖ model)"]
    rows = [
        [fmt(positions[i])] + [fmt(curves[n][i]) for n in names] + [fmt(kl[i]) if i < len(kl) else "–"]
        for i in shown_positions(positions)
    ]
    mean = section.get("mean") or {}
    rows.append(["mean over positions"] + [fmt(mean.get(n)) for n in names] + [fmt(sum(kl) / len(kl)) if kl else "–"])
    averaged = (
        "every sequence of the context, weighted by its probability"
        if section.get("exact")
        else f"{fmt(section.get('num_sequences'))} sampled sequences (a fixed set)"
    )
    last = {n: curves[n][-1] for n in names}
    gaps = [
        f"{gap_percent(last['model'], last[n]):+.3f}% against {labels.get(n, n)}"
        + (" (the training process's)" if n == section.get("training_bayes") else "")
        for n in BAYES_CURVES
        if n in last
    ]
    return (
        [
            f"## In-context loss by position (`{run.path.name}`)",
            "",
            f"Expected next-token loss (nats) against the training process's Bayes distribution, over {averaged}; "
            f"the in-context estimators with add-{fmt(section.get('smoothing'), 2)} smoothing.",
            "",
        ]
        + table(columns, rows)
        + [f"Model loss at the last position ({fmt(positions[-1])} tokens seen): " + "; ".join(gaps) + ".", ""]
    )


def icl_targets_table(run: Run) -> list[str]:
    """Per in-context target (component posterior, transition matrices): the best site's R², held-out R² and
    null, the untrained control and the best token-history baselines (report.html's rows); nothing otherwise."""
    rows = target_rows(run.analysis or {})
    if not rows:
        return []
    return [
        f"## In-context targets (`{run.path.name}`): the best site against token history",
        "",
        "The single site with the highest in-sample R² (held out: random folds); the baselines use only "
        "the last k tokens and the position (best k, held out over the ladder's stratified folds).",
        "",
    ] + table(TARGET_COLUMNS, [[f"`{row[0]}`", f"`{row[1]}`", *row[2:]] for row in rows])
