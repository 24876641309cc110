"""The tables of a toy run's page: training loss against the optimum, the per-site belief regression with its
controls, the headline, the referee's ladder; mean ± sd over runs when there are several."""

from analysis.figures.labels import format_p
from analysis.figures.summary import TARGET_TITLES
from experiments.results_page.common import fmt, get, mean_sd, r2, sd, spread
from experiments.results_page.toy import Run


def training(runs: list[Run]) -> list[str]:
    """Loss against the Bayes-optimal loss at the model's context, per run."""
    rows = [r for r in runs if r.section("loss")]
    if not rows:
        return []
    lines = [
        "## Training",
        "",
        "| run | steps | tokens | loss (nats) | optimum (nats) | relative loss | KL to Bayes |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        loss = r.section("loss")
        tokens = next((m.get("tokens") for m in reversed(r.metrics) if m.get("step") == loss.get("step")), None)
        lines.append(
            f"| `{r.path.name}` | {fmt(loss.get('step'))} | {fmt(tokens)} | {fmt(loss.get('final'), 5)} | "
            f"{fmt(loss.get('optimal'), 5)} | {fmt(loss.get('relative'), 5)} | {fmt(loss.get('kl'))} |"
        )
    if len(rows) > 1:
        five = lambda v: fmt(v, 5)
        lines.append(
            f"| mean ± sd | | | {mean_sd([r.section('loss', 'final') for r in rows], five)} | | "
            f"{mean_sd([r.section('loss', 'relative') for r in rows], five)} | |"
        )
    return lines + [""]


def site_table(runs: list[Run], target: str = "belief", intro: bool = True) -> list[str]:
    """Per site: in-sample R² of `target` with its shuffle null, held-out R² (random folds) with its null, the
    untrained control; mean ± sd over runs when there are several. `intro`: the paragraph on prefixes, weighting,
    nulls and folds (the first target's table has it, the others refer to it)."""
    runs = [r for r in runs if r.section("trained")]
    if not runs:
        return []
    first = runs[0]
    title = TARGET_TITLES.get(target, target.replace("_", "-"))
    heading = "## Belief regression onto the belief state" if target == "belief" else f"## Regression onto the {title}"
    lines = [heading + ("" if target == "belief" else f" (`{target}`)"), ""]
    lines += (
        _settings_text(runs)
        if intro
        else ["Prefixes, weighting, nulls and folds as in the first regression table.", ""]
    )
    lines += [
        "| site | R² | shuffle null mean / q99 | p | held-out R² | fold mean ± sd | held-out null q99 | "
        "untrained R² | untrained held-out R² |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for group in first.section("trained"):
        cells = [[r.section(*path) for r in runs] for path in _site_paths(group, target)]
        fit, null_mean, null_q99, p, cv, fold_mean, fold_sd, cv_q99, untrained, untrained_cv, perms = cells
        if len(runs) == 1:
            row = [
                r2(fit[0]),
                f"{r2(null_mean[0])} / {r2(null_q99[0])}",
                format_p(p[0], perms[0], compact=True),
                r2(cv[0]),
                f"{r2(fold_mean[0])} ± {sd(fold_sd[0])}",
                r2(cv_q99[0]),
                r2(untrained[0]),
                r2(untrained_cv[0]),
            ]
        else:
            row = [
                mean_sd(fit),
                f"{mean_sd(null_mean)} / {mean_sd(null_q99)}",
                mean_sd(p, fmt),
                mean_sd(cv),
                mean_sd(fold_mean),
                mean_sd(cv_q99),
                mean_sd(untrained),
                mean_sd(untrained_cv),
            ]
        lines.append(f"| `{group}` | " + " | ".join(row) + " |")
    return lines + [""]


def _settings_text(runs: list[Run]) -> list[str]:
    """The paragraph under the first regression table: prefixes, weighting, the nulls and the fold scheme."""
    data = runs[0].section("data") or {}
    settings = runs[0].section("settings") or {}
    return [
        f"{fmt(data.get('num_prefixes'))} distinct prefixes ({data.get('source')}, context "
        f"{data.get('context_length')}), weighting `{settings.get('weighting')}` (effective sample size "
        f"{fmt(data.get('effective_sample_size'), 1)}); shuffle null of {fmt(settings.get('num_shuffles'))} "
        f"permutations; {settings.get('cv_folds')}-fold cross-validation over prefixes (one random fold "
        f"assignment, `rcond` {settings.get('rcond')}) with a held-out null of "
        f'{fmt(settings.get("num_cv_shuffles"))} permutations. "Fold mean ± sd" is the spread over the '
        f"{settings.get('cv_folds')} folds of that one assignment (population sd)"
        + (
            "."
            if len(runs) == 1
            else f"; with {len(runs)} runs every cell is mean ± sd (ddof 1) over the runs "
            "(the fold column: of each run's fold mean)."
        ),
        "",
    ]


def _site_paths(group: str, target: str) -> list[tuple]:
    t = ("trained", group, "targets", target)
    u = ("untrained", group, "targets", target)
    return [
        t + ("r2",),
        t + ("shuffle", "mean"),
        t + ("shuffle", "q99"),
        t + ("shuffle", "p_value"),
        t + ("cv", "r2"),
        t + ("cv", "r2_fold_mean"),
        t + ("cv", "r2_fold_std"),
        t + ("cv", "shuffle", "q99"),
        u + ("r2",),
        u + ("cv", "r2"),
        t + ("shuffle", "num_permutations"),
    ]


def headline(runs: list[Run]) -> list[str]:
    """The best single site of each run, and the mean ± sd over runs."""
    runs = [r for r in runs if r.section("headline", "belief")]
    if not runs:
        return []
    lines = [
        "## Headline",
        "",
        "| run | best site | R² | held-out R² (random folds) | held-out R² (ladder: mean ± sd "
        "over stratified fold assignments) | untrained R² |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    ladder_means = []
    for r in runs:
        head = r.section("headline", "belief")
        ladder = r.section("ladder", "weightings", "prob", "network", head["site"], "cv", "r2") or {}
        ladder_means.append(ladder.get("mean"))
        lines.append(
            f"| `{r.path.name}` | `{head['site']}` | {r2(head['r2'])} | {r2(head['cv_r2'])} | "
            f"{spread(ladder)} | {r2(head['untrained_r2'])} |"
        )
    if len(runs) > 1:
        heads = [r.section("headline", "belief") for r in runs]
        lines.append(
            f"| mean ± sd over {len(runs)} runs | | {mean_sd([h['r2'] for h in heads])} | "
            f"{mean_sd([h['cv_r2'] for h in heads])} | {mean_sd(ladder_means)} | "
            f"{mean_sd([h['untrained_r2'] for h in heads])} |"
        )
    return lines + [""]


def ladder(run: Run) -> list[str]:
    """The referee's ladder of one run: network groups, baselines, ceiling and controls, per weighting."""
    base = run.section("ladder")
    if not base:
        return []
    settings = base.get("settings", {})
    lines = [
        f"## The referee's ladder (`{run.path.name}`)",
        "",
        f"Held out: mean ± sd over {settings.get('fold_seeds')} fold assignments stratified by belief state "
        f"({settings.get('cv_folds')} folds each), `rcond` chosen by nested cross-validation.",
        "",
        "| rung | " + " | ".join(base["weightings"]) + " |",
        "| --- |" + " --- |" * len(base["weightings"]),
    ]
    weightings = base["weightings"].values()
    rows = [("effective sample size", [fmt(w.get("effective_sample_size"), 1) for w in weightings])]
    for group in base.get("groups", {}):
        rows.append(
            (
                f"network `{group}`, in sample / held out",
                [
                    f"{r2(get(w, 'network', group, 'r2'))} / {spread(get(w, 'network', group, 'cv', 'r2'))}"
                    for w in weightings
                ],
            )
        )
        rows.append(
            (
                f"network `{group}`, leave belief state out",
                [spread(get(w, "network", group, "leave_belief_state_out", "r2")) for w in weightings],
            )
        )
    for kind in ("linear", "lookup"):
        rows.append(
            (
                f"best {kind} token-history baseline (k), held out",
                [best_baseline(get(w, "token_history", f"best_{kind}")) for w in weightings],
            )
        )
    rows.append(
        (
            "affine map of the Bayes next-token distribution / best function of it (in sample)",
            [
                f"{r2(get(w, 'prediction_ceiling', 'affine_r2'))} / "
                f"{r2(get(w, 'prediction_ceiling', 'best_function_r2'))}"
                for w in weightings
            ],
        )
    )
    for group, control in (base.get("controls") or {}).items():
        rows.append(
            (
                f"untrained `{group}`, held out (random folds) / held-out null q99",
                [
                    f"{r2(control.get('untrained_cv_r2'))} / {r2((control.get('heldout_null') or {}).get('q99'))}"
                    if control.get("weighting") == name
                    else "–"
                    for name in base["weightings"]
                ],
            )
        )
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in rows]
    return lines + [""]


def best_baseline(best) -> str:
    """`held-out R² (k = ..)` of a ladder's best token-history baseline ({k, cv_r2}), "–" when absent."""
    return "–" if not best else f"{r2(best.get('cv_r2'))} (k = {best.get('k')})"
