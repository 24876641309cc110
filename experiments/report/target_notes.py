"""What a reader needs to know beside the per-target tables: whether the next-token table says anything new."""

import math

import hmm
from analysis.ladder.prediction_map import prediction_determines_belief


def _same_numbers(report: dict) -> bool:
    pairs = [
        (g["targets"]["belief"]["r2"], g["targets"]["next_token"]["r2"])
        for g in report.get("trained", {}).values()
        if {"belief", "next_token"} <= set(g["targets"])
    ]
    return bool(pairs) and all(
        a is not None and b is not None and math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9) for a, b in pairs
    )


def next_token_note(process: hmm.Process, report: dict) -> str:
    """One paragraph for the next-token table: is the prediction an invertible affine function of the belief?"""
    name = hmm.display_name(process)
    if prediction_determines_belief(process):
        same = " Here the R² of the two tables coincide." if _same_numbers(report) else ""
        return (
            f"For {name} the next-token distribution is an invertible affine function of the belief state "
            f"(P(x | η) = η·T[x]·w, and the {process.num_states} × {process.vocab_size} matrix has rank "
            f"{process.num_states}), so a linear readout of either is a linear readout of the other: this "
            f"table adds nothing to the belief table.{same}"
        )
    return (
        f"For {name} the next-token distribution does not determine the belief state (the "
        f"{process.num_states} × {process.vocab_size} map from beliefs to predictions has rank below "
        f"{process.num_states}): a site can hold the prediction without the belief, so compare this table "
        f"with the belief table."
    )
