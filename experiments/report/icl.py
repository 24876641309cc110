"""The report table of the in-context stage: loss at a few positions for every curve."""

from analysis.icl.curves import CURVE_LABELS


def shown_positions(positions: list) -> list:
    """Indices of tokens-seen 1, 2, 4, 8, ... and the last position."""
    picked = [i for i, p in enumerate(positions) if p & (p - 1) == 0]
    return picked + ([len(positions) - 1] if picked[-1] != len(positions) - 1 else [])


def icl_tables(report: dict) -> list:
    """`[(title, header, rows, note)]` for `write_run_report`; empty without `report["icl"]`."""
    section = report.get("icl")
    if not section:
        return []
    idx = shown_positions(section["positions"])
    header = ["predictor"] + [f"{section['positions'][i]} seen" for i in idx] + ["mean"]
    rows = [[CURVE_LABELS[name]] + [f"{curve[i]:.4f}" for i in idx] + [f"{section['mean'][name]:.4f}"]
            for name, curve in section["curves"].items()]
    average = "every sequence, weighted by probability" if section["exact"] else \
        f"{section['num_sequences']:,} sampled sequences (fixed)"
    note = (f"Expected next-token loss (nats) against the training process's Bayes distribution, over {average}. "
            f"Model / Bayes at the last position: {section['relative_last']:.4f}.")
    return [("In-context loss by position", header, rows, note)]
