"""The page of a `belieflab probe-llm` run (config.yaml with a `probe_llm` section, analysis.json): in-context
KL to Bayes against the n-gram estimators and the permuted control, the per-site belief regression with its
controls, the token-history baselines and the prediction ceiling, lenses against Bayes, patching when present,
and any other section generically."""

from pathlib import Path

from experiments.llm.probe_report import PATCHING_COLUMNS, patching_rows
from experiments.results_page.common import JsonRun, copy_figure, fmt, generic_section, get, r2, spread, table
from hmm.errors import MissingFileError
from models.pretrained.describe import checkpoint_line

RENDERED = {  # top-level keys of analysis.json this page has tables for (or that are metadata)
    *("schema", "units", "settings", "model", "process", "symbols", "sequences", "summary"),
    *("in_context", "regression", "baselines", "lenses", "patching"),
    *("seconds", "wall_seconds", "command", "environment"),
}
LENS_KINDS = ("logit", "tuned")


class ProbeRun(JsonRun):
    """One probe-llm run directory, read once."""

    def __init__(self, path):
        if not (Path(path) / "analysis.json").is_file():
            raise MissingFileError(f"{path} is a probe-llm run directory without analysis.json: rerun the command")
        super().__init__(path, "analysis.json")
        process = self.result["process"]
        self.subject = f"{get(self.result, 'settings', 'model')} on {process['name']} {process.get('params') or ''}"


def setup(run: ProbeRun) -> list[str]:
    r = run.result
    seq, sym, proc = r["sequences"], r["symbols"], r["process"]
    shown = {k: v for k, v in r["settings"].items() if k not in ("model", "process", "params")}
    settings = ", ".join(f"{k} {v!r}" if isinstance(v, str) else f"{k} {v}" for k, v in shown.items())
    stages = ", ".join(f"{k} {v:.1f}" for k, v in (r.get("seconds") or {}).items())
    rows = [
        ["model checkpoint", checkpoint_line(get(r, "model", "checkpoint"))],
        [
            "process",
            f"{proc['name']} {proc.get('params')} ({proc.get('num_states')} states, {proc['vocab_size']} tokens)",
        ],
        ["symbols", " ".join(f"`{s!r}`" for s in sym["symbols"]) + f", separator `{sym['separator']!r}`"],
        ["sequences × length", f"{seq['count']} × {seq['length']} ({fmt(seq['rows'])} rows, {seq['folds']} folds)"],
        ["settings", settings],
        ["wall seconds", fmt(r.get("wall_seconds"), 1) if "wall_seconds" in r else "not recorded"],
        ["seconds by stage", stages or "not recorded"],
    ]
    return [f"## Setup (`{run.name}`)", ""] + table(["quantity", "value"], rows)


def in_context(run: ProbeRun) -> list[str]:
    ic = run.result["in_context"]
    rows = [[f"`{k}`", fmt(v), fmt(ic["kl_last_quarter"].get(k))] for k, v in ic["kl_last"].items()]
    intro = (
        f"KL(Bayes ‖ predictor) in nats, mean over the sequences: the model's next-symbol distribution "
        f"renormalised over the symbols, the weight-permuted model, and add-α n-gram estimators (α = "
        f"{ic.get('alpha')}) counted in context. Entropy rate {fmt(ic.get('entropy_rate'))} nats/symbol; mean "
        f"probability the model puts on the symbols {fmt(ic.get('symbol_mass_mean'))}."
    )
    columns = ["predictor", "KL at the last position", "KL, mean over the last quarter"]
    return ["## In-context prediction against Bayes", "", intro, ""] + table(columns, rows)


def regression(run: ProbeRun) -> list[str]:
    reg, best = run.result["regression"], get(run.result, "summary", "best_site")
    component = "component" in reg["trained"][reg["sites"][0]]
    columns = ["site", "R² in sample", "shuffle null q99 / p", "held-out R²", "held-out null q99"]
    columns += ["weights permuted, held-out R²"] + (["component posterior held-out R² / permuted"] if component else [])
    rows = []
    for site in reg["sites"]:
        fit, permuted = reg["trained"][site], reg["permuted"].get(site) or {}
        row = [
            f"`{site}`" + (" (best)" if site == best else ""),
            r2(get(fit, "metrics", "r2")),
            f"{r2(get(fit, 'shuffle', 'q99'))} / {fmt(get(fit, 'shuffle', 'p_value'), 3)}",
            r2(get(fit, "cv", "r2")),
            r2(get(fit, "cv_shuffle", "q99")),
            r2(get(permuted, "cv", "r2")),
        ]
        if component:
            row.append(f"{r2(get(fit, 'component', 'cv_r2'))} / {r2(get(permuted, 'component', 'cv_r2'))}")
        rows.append(row)
    intro = (
        f"Linear regression of the exact belief onto each residual site; held out: {run.result['sequences']['folds']} "
        "folds of whole sequences. Nulls: the beliefs shuffled across rows (in sample and held out). Control: the "
        "same model with the values inside each weight matrix permuted."
    )
    return ["## Belief regression per site", "", intro, ""] + table(columns, rows)


def baselines(run: ProbeRun) -> list[str]:
    base = run.result["baselines"]
    history = base.get("token_history") or {}
    lookup = {e["k"]: e for e in history.get("lookup", [])}
    rows = [
        [e["k"], r2(e.get("cv_r2")), r2(get(lookup, e["k"], "cv_r2")), fmt(get(lookup, e["k"], "coverage"), 3)]
        for e in history.get("linear", [])
    ]
    ceiling = base.get("prediction_ceiling") or {}
    facts = [
        [
            "the belief read from the model's next-symbol distribution, held out",
            r2(get(base, "model_prediction", "cv_r2")),
        ],
        [
            "prediction ceiling: affine map of the Bayes next-token distribution, in sample",
            r2(ceiling.get("affine_r2")),
        ],
        ["prediction ceiling: affine, held out (mean ± sd over folds)", spread(ceiling.get("affine_cv"))],
        ["prediction ceiling: best function of it, in sample", r2(ceiling.get("best_function_r2"))],
    ]
    columns = ["last k tokens + position", "linear, held-out R²", "lookup table, held-out R²", "lookup coverage"]
    return (
        ["## Token-history baselines and the prediction ceiling", ""]
        + table(columns, rows)
        + table(["baseline", "R²"], facts)
    )


def lenses(run: ProbeRun) -> list[str]:
    lens = run.result.get("lenses") or {}
    kinds = [k for k in LENS_KINDS if k in lens]
    if not kinds:
        return []
    rows = [
        [layer, *(fmt(lens[k]["kl_bayes"][i]) for k in kinds), *(fmt(lens[k]["kl_model"][i]) for k in kinds)]
        for i, layer in enumerate(lens.get("layers", range(len(lens[kinds[0]]["kl_bayes"]))))
    ]
    columns = ["layer", *(f"KL(Bayes ‖ {k})" for k in kinds), *(f"KL(model ‖ {k})" for k in kinds)]
    intro = (
        "Held-out sequences, nats, each lens read out over the symbol tokens only; layer l is the residual "
        f"entering block l, the last the final residual. The model's own KL(Bayes ‖ model): "
        f"{fmt(get(lens, 'model', 'kl_bayes'))}."
    )
    return ["## Lenses against Bayes", "", intro, ""] + table(columns, rows)


def patching(run: ProbeRun) -> list[str]:
    p = run.result.get("patching")
    if not p:
        return []
    intro = (
        f"{p['pairs']} pairs; mean L1 distance of the last beliefs {fmt(p['far_belief_l1'], 3)} (control "
        f"{fmt(p['control_belief_l1'], 3)}); fraction of the KL gap each patch closes."
    )
    return ["## Activation patching", "", intro, ""] + table(PATCHING_COLUMNS, patching_rows(p))


def probe_sections(runs: list[ProbeRun], out: Path, images: Path) -> list[str]:
    """Every run's tables, then any section of its analysis.json this page has no table for."""
    first = runs[0]
    alt = f"In-context KL to Bayes of `{first.name}` beside the n-gram estimators"
    parts = copy_figure(first.path / "figures" / "in_context_kl.png", out, images, "in_context_kl", alt)
    for run in runs:
        parts += setup(run) + in_context(run) + regression(run) + baselines(run) + lenses(run) + patching(run)
        for name in run.result:
            if name not in RENDERED:
                parts += generic_section(name, run.result[name])
    return parts
