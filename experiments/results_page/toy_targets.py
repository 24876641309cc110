"""The toy page's regression tables for every target a run measured (the belief state, the Bayes next-token
distribution, a mixture's component posterior, a pool's transition matrices), each with the token-history
baselines the referee's ladder measured for it."""

from analysis.figures.summary import TARGET_TITLES
from experiments.results_page.common import table
from experiments.results_page.toy import Run
from experiments.results_page.toy_tables import best_baseline, site_table


def targets(run: Run) -> list[str]:
    """The targets regressed onto in `run`, in the order analysis.json lists them (the belief state first)."""
    groups = run.section("trained") or {}
    present = next(iter(groups.values()), {}).get("targets", {}) if groups else {}
    listed = [t for t in (run.section("targets") or []) if t in present]
    order = listed + [t for t in present if t not in listed]
    return sorted(order, key=lambda t: t != "belief")


def history_table(runs: list[Run], target: str) -> list[str]:
    """Held-out R² of the best linear and lookup token-history baselines of an in-context target (per run and
    weighting, from `ladder.weightings.<w>.icl_targets`); nothing when the ladder did not measure them."""
    rows = []
    for run in runs:
        for weighting, part in (run.section("ladder", "weightings") or {}).items():
            history = (part.get("icl_targets") or {}).get(target)
            if history:
                rows.append(
                    [
                        f"`{run.path.name}`",
                        f"`{weighting}`",
                        best_baseline(history.get("best_linear")),
                        best_baseline(history.get("best_lookup")),
                    ]
                )
    if not rows:
        return []
    folds = (runs[0].section("ladder", "settings") or {}).get("fold_seeds")
    title = TARGET_TITLES.get(target, target)
    return [
        f"Token-history baselines for the {title} (the last k tokens and the position; held out: mean over "
        f"{folds} fold assignments stratified by belief state, best k):",
        "",
    ] + table(["run", "weighting", "best linear baseline, held-out R² (k)", "best lookup baseline (k)"], rows)


def target_tables(runs: list[Run]) -> list[str]:
    """One regression table per target (the settings paragraph under the first), each followed by its
    token-history baselines when the ladder measured them."""
    parts = []
    for i, target in enumerate(targets(runs[0])):
        parts += site_table(runs, target, intro=i == 0) + history_table(runs, target)
    return parts
