"""The run directory of `belieflab probe-llm`: config.yaml, analysis.json, figures/ and report.html."""

from pathlib import Path

import numpy as np
import yaml
from matplotlib.ticker import MaxNLocator

from analysis.atomic import atomic_write_text, plain, write_json
from analysis.figures.canvas import new_figure, save_figure
from analysis.figures.geometry import belief_view, plot_panels
from analysis.figures.labels import format_r2
from experiments.report.html import figures_html, page, paragraph, table
from models.pretrained.describe import checkpoint_line

CAPTIONS = {
    "in_context_kl": "Left: KL(Bayes ‖ predictor) per position, mean over sequences (nats): the model's next-symbol "
    "distribution renormalised over the symbols, the weight-permuted control, and add-α n-gram "
    "estimators counted in context. Right: the probability mass the model puts on the symbols.",
    "r2_by_site": "Belief R² per residual site: held out (whole sequences per fold) for the model and its "
    "weight-permuted control, in-sample dashed, the held-out shuffle null's 99th percentile, and "
    "per position bucket; horizontal lines: token-history baselines (last k tokens + position, "
    "held out) and the belief read from the model's own next-symbol distribution. For a mixture, "
    "the held-out R² of the component posterior too.",
    "geometry": "The exact beliefs of the sampled positions (ground truth) beside the held-out regressed beliefs of "
    "the best site and of the permuted control's best site, coloured by the true belief.",
    "lens_kl": "Lenses against Bayes on held-out sequences: KL(Bayes ‖ lens) per layer, each lens read out over the "
    "symbol tokens only; dashed: the model's own output.",
    "patching": "Activation patching: sequence A's residual entering each layer replaced by sequence B's (B: the "
    "sequence whose last belief is farthest from A's), at every position up to the last (solid) or at the last "
    "only (dotted); the fraction of the gap KL(Bayes_B ‖ model_A) − KL(Bayes_B ‖ model_B) the patch closes, summed "
    "over pairs. Grey: the control, patched from the sequence whose last belief is nearest A's (0 = a zero gap).",
    "steering": "Belief steering at the last symbol: the residual entering each layer moved toward the last belief "
    "of the sequence farthest from the source's, along the belief decoder (minimum-norm step) or the encoder "
    "(activation change that goes with that belief change), each beside a random direction of the same norm. Left: "
    "KL(Bayes of the target belief ‖ steered next-symbol distribution), nats; right: KL to the source belief's Bayes "
    "prediction. Dashed: unsteered; dotted: the target sequences' own runs (what perfect steering would reach).",
}

STEERING_STYLES = {  # kind: (colour, line style, label)
    "belief": ("tab:blue", "o-", "decoder step"),
    "random": ("tab:blue", "o:", "random, decoder step's norm"),
    "encoder": ("tab:green", "s-", "encoder step"),
    "random_encoder": ("tab:green", "s:", "random, encoder step's norm"),
}


def _in_context_figure(result: dict, path: Path):
    ic = result["in_context"]
    fig = new_figure(10, 3.6)
    ax, ax_mass = fig.subplots(1, 2)
    positions = np.arange(1, result["sequences"]["length"] + 1)
    for name, curve in ic["kl_to_bayes"].items():
        style = {"model": ("k", "-", 1.6), "permuted": ("0.6", "-", 1.0)}.get(name, (None, "--", 1.0))
        ax.plot(positions, curve, color=style[0], ls=style[1], lw=style[2], label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("symbols seen (t + 1)")
    ax.set_ylabel("KL(Bayes ‖ predictor), nats")
    ax.legend(fontsize=8)
    ax.set_title(f"{result['model']['name']} on {result['process']['name']}: in-context prediction", fontsize=10)
    ax_mass.plot(positions, ic["symbol_mass"], color="k")
    ax_mass.set_xscale("log")
    ax_mass.set_ylim(0, 1.02)
    ax_mass.set_xlabel("symbols seen (t + 1)")
    ax_mass.set_ylabel("probability on the symbol tokens")
    save_figure(fig, path)


def _r2_figure(result: dict, path: Path):
    reg = result["regression"]
    sites = reg["sites"]
    x = np.arange(len(sites))
    fig = new_figure(max(7.0, 0.06 * len(sites) + 5), 4.2)
    ax = fig.subplots()
    cv = lambda fits: [fits[s]["cv"]["r2"] for s in sites]  # noqa: E731
    ax.plot(x, cv(reg["trained"]), "o-", ms=3, color="tab:blue", label="model, held out")
    ax.plot(
        x, [reg["trained"][s]["metrics"]["r2"] for s in sites], "--", color="tab:blue", lw=1, label="model, in sample"
    )
    ax.plot(x, cv(reg["permuted"]), "o-", ms=3, color="0.55", label="weights permuted, held out")
    null = [(reg["trained"][s].get("cv_shuffle") or {}).get("q99") for s in sites]
    if all(v is not None for v in null):
        ax.plot(x, null, ":", color="tab:red", label="held-out shuffle q99")
    for name, colour in zip(reg["trained"][sites[0]]["buckets"], ("tab:green", "tab:olive", "tab:purple")):
        ax.plot(
            x,
            [reg["trained"][s]["buckets"][name]["cv_r2"] for s in sites],
            "-",
            lw=0.8,
            color=colour,
            label=f"model, held out, {name} positions",
        )
    if reg["extra_target"]:
        ax.plot(
            x,
            [reg["trained"][s]["component"]["cv_r2"] for s in sites],
            "s-",
            ms=3,
            color="tab:cyan",
            label="component posterior, held out",
        )
        ax.plot(
            x,
            [reg["permuted"][s]["component"]["cv_r2"] for s in sites],
            "s-",
            ms=3,
            color="lightblue",
            label="component posterior, weights permuted",
        )
    base = result["baselines"]
    k = base["token_history"]["linear"][-1]["k"]
    for value, label, colour in (
        (base["token_history"]["linear"][-1]["cv_r2"], f"last {k} tokens + position, linear", "tab:orange"),
        (base["token_history"]["lookup"][-1]["cv_r2"], f"last {k} tokens + position, lookup", "tab:brown"),
        (base["model_prediction"]["cv_r2"], "model's next-symbol distribution", "k"),
    ):
        ax.axhline(value, color=colour, ls="-.", lw=1, label=label)
    step = max(1, len(sites) // 16)
    ax.set_xticks(
        x[::step],
        [str(i) for i in x[::step]] if len(sites) == len(result["lenses"]["layers"]) else [sites[i] for i in x[::step]],
        fontsize=7,
        rotation=0 if len(sites) < 40 else 60,
    )
    ax.set_xlabel(
        "layer (0: embedding; last: final residual)"
        if len(sites) == len(result["lenses"]["layers"])
        else "residual site"
    )
    ax.set_ylabel("belief R²")
    ax.set_ylim(min(-0.05, np.nanmin(cv(reg["permuted"])) - 0.05), 1.02)
    ax.legend(fontsize=7, loc="lower right", ncol=2)
    save_figure(fig, path)


def _geometry_figure(result: dict, seqs, predictions: dict, path: Path):
    process = seqs.process
    y = seqs.rows(seqs.beliefs_NxTxS)
    view = belief_view(y, np.ones(len(y)), simplex=process.num_states == 3 and not process.is_generalized)
    summary = result["summary"]
    panels = [("ground truth (exact beliefs)", y)]
    for kind, site in (("trained", summary["best_site"]), ("permuted", summary["permuted_best_site"])):
        fit = predictions[kind][site]
        label = "model" if kind == "trained" else "weights permuted"
        panels.append((f"{label}: {site}\nheld-out R² {format_r2(fit['cv']['r2'])}", fit["heldout_NxC"]))
    plot_panels(view, panels, path, title=f"{result['model']['name']} on {result['process']['name']}")


def _lens_figure(result: dict, path: Path):
    lenses = result["lenses"]
    fig = new_figure(6.5, 3.6)
    ax = fig.subplots()
    for name, colour in (("logit", "tab:blue"), ("tuned", "tab:orange")):
        if name in lenses:
            ax.plot(lenses["layers"], lenses[name]["kl_bayes"], "o-", ms=3, color=colour, label=f"{name} lens")
    ax.axhline(lenses["model"]["kl_bayes"], color="0.3", ls="--", lw=1, label="model output")
    ax.set_yscale("log")
    ax.set_xlabel("layer (block input; last = final residual)")
    ax.set_ylabel("KL(Bayes ‖ lens), nats")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def _patching_figure(result: dict, path: Path):
    patching = result["patching"]
    fig = new_figure(6.5, 3.6)
    ax = fig.subplots()
    for mode, style in (("all", "o-"), ("last", "s:")):
        curves = patching["modes"][mode]
        ax.plot(patching["layers"], curves["far"], style, ms=3, color="tab:purple", label=f"far belief, {mode}")
        ax.plot(patching["layers"], curves["control"], style, ms=3, color="0.6", label=f"same-belief control, {mode}")
    ax.axhline(0, color="0.3", lw=0.8)
    ax.axhline(1, color="0.3", lw=0.8, ls="--")
    ax.set_xlabel("layer patched (block input; last = final residual)")
    ax.set_ylabel("fraction of the KL gap closed")
    ax.legend(fontsize=7)
    save_figure(fig, path)


def _steering_figure(result: dict, path: Path):
    steering = result["steering"]
    fig = new_figure(11, 3.8)
    for ax, key, belief in zip(fig.subplots(1, 2), ("kl_target", "kl_source"), ("target", "source")):
        for kind, (colour, style, label) in STEERING_STYLES.items():
            ax.plot(steering["layers"], steering[key][kind], style, ms=3, color=colour, label=label)
        ax.axhline(steering[key]["unsteered"][0], color="0.3", ls="--", lw=1, label="unsteered")
        if key == "kl_target" and "kl_target_reachable" in steering:
            ax.axhline(steering["kl_target_reachable"], color="0.3", ls=":", lw=1, label="the target's own run")
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("layer steered (block input; last = final residual)")
        ax.set_ylabel(f"KL(Bayes of the {belief} belief ‖ model), nats")
        ax.legend(fontsize=7)
    save_figure(fig, path)


STEERING_COLUMNS = [
    "layer",
    "site",
    "decoder held-out R²",
    "KL to target: unsteered",
    "decoder step",
    "random (same norm)",
    "encoder step",
    "random (same norm)",
    "KL to source: decoder step",
    "share of KL to target removed: decoder / random / encoder / random",
    "share nearer the target: decoder / random",
    "step norm: decoder / encoder (residual norm)",
]


def steering_rows(steering: dict) -> list[list]:
    """One row per steered layer: KLs (nats) to the target's and source's Bayes predictions, per kind of step."""

    def show(v):
        return "-" if v is None else f"{v:.3f}"

    rows = []
    for i, (layer, site) in enumerate(zip(steering["layers"], steering["sites"])):
        kl, removed = steering["kl_target"], steering["removed"]
        rows.append(
            [
                layer,
                site,
                f"{steering['decoder_cv_r2'][i]:.3f}",
                *(f"{kl[k][i]:.4f}" for k in ("unsteered", "belief", "random", "encoder", "random_encoder")),
                f"{steering['kl_source']['belief'][i]:.4f}",
                " / ".join(show(removed[k][i]) for k in ("belief", "random", "encoder", "random_encoder")),
                " / ".join(f"{steering['nearer_target'][k][i]:.2f}" for k in ("belief", "random")),
                f"{steering['step_norm']['belief'][i]:.2f} / {steering['step_norm']['encoder'][i]:.2f} "
                f"({steering['activation_norm'][i]:.2f})",
            ]
        )
    return rows


def _steering_note(steering: dict) -> str:
    return paragraph(
        f"{steering['pairs']} source sequences, each steered at its last symbol (model position "
        f"{steering['position']}) toward the last belief of the sequence farthest from its own (mean L1 distance "
        f"{steering['target_belief_l1']:.3f}); decoders {steering['decoders']} (a source's step comes from the fit "
        f"that never saw its sequence). Unsteered: mean KL(Bayes_target ‖ model) "
        f"{steering['kl_target']['unsteered'][0]:.4f} nats, KL(Bayes_source ‖ model) "
        f"{steering['kl_source']['unsteered'][0]:.4f} nats"
        + (
            f"; the targets' own runs: KL(Bayes_target ‖ model_target) {steering['kl_target_reachable']:.4f} nats"
            if "kl_target_reachable" in steering
            else ""
        )
        + ". KLs in nats over the symbols (renormalised)."
    )


def patching_rows(patching: dict) -> list[list]:
    """One row per patched layer: closed fractions of the far pairs and the control, both modes."""
    modes = patching["modes"]
    return [
        [
            layer,
            site,
            *(f"{modes[m][k][i]:.3f}" for m in ("all", "last") for k in ("far", "control")),
            f"{modes['last']['control_of_far_gap'][i]:.3f}",
        ]
        for i, (layer, site) in enumerate(zip(patching["layers"], patching["sites"]))
    ]


PATCHING_COLUMNS = [
    "layer",
    "site",
    "closed, all positions",
    "control, all positions",
    "closed, last position",
    "control, last position",
    "control's KL change / far gap, last position",
]


def write_probe_figures(out_dir, result: dict, seqs, predictions: dict) -> None:
    """Every figure of the run into `out_dir/figures`."""
    figures = Path(out_dir) / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    _in_context_figure(result, figures / "in_context_kl.png")
    _r2_figure(result, figures / "r2_by_site.png")
    _geometry_figure(result, seqs, predictions, figures / "geometry.png")
    _lens_figure(result, figures / "lens_kl.png")
    if "patching" in result:
        _patching_figure(result, figures / "patching.png")
    if "steering" in result:
        _steering_figure(result, figures / "steering.png")


def _summary_rows(result: dict) -> list[list]:
    s, ic, ck = result["summary"], result["in_context"], result["model"]["checkpoint"]
    rows = [
        ["model checkpoint", checkpoint_line(ck)],
        ["process", f"{result['process']['name']} {result['process']['params']}"],
        [
            "symbols",
            " ".join(repr(t) for t in result["symbols"]["symbols"])
            + (f", separator {result['symbols']['separator']!r}" if result["symbols"]["separator"] else ""),
        ],
        ["sequences x length", f"{result['sequences']['count']} x {result['sequences']['length']}"],
        ["entropy rate (nats/symbol)", ic["entropy_rate"]],
        ["mean probability on the symbols", ic["symbol_mass_mean"]],
    ]
    rows += [
        [f"KL(Bayes ‖ {k}) at the last position / last quarter", f"{v:.4f} / {ic['kl_last_quarter'][k]:.4f}"]
        for k, v in ic["kl_last"].items()
    ]
    rows += [
        ["best site (held-out belief R²)", f"{s['best_site']}: {s['best_cv_r2']:.4f}"],
        ["  its held-out shuffle q99", s["best_cv_shuffle_q99"] if s["best_cv_shuffle_q99"] is not None else "-"],
        ["  weights permuted, same site", s["permuted_same_site_cv_r2"]],
        ["  weights permuted, best site", f"{s['permuted_best_site']}: {s['permuted_best_cv_r2']:.4f}"],
        [
            f"  last {result['settings']['history_k']} tokens + position, linear / lookup (held out)",
            f"{s['history_linear_cv_r2']:.4f} / {s['history_lookup_cv_r2']:.4f}",
        ],
        ["  from the model's next-symbol distribution (held out)", s["model_prediction_cv_r2"]],
        *(
            [
                [
                    "component posterior: best site (held out)",
                    f"{s['component_best_site']}: "
                    f"{s['component_best_cv_r2']:.4f} (weights permuted {s['component_permuted_same_site_cv_r2']:.4f})",
                ]
            ]
            if "component_best_site" in s
            else []
        ),
        ["prediction-only ceiling (affine, held out)", result["baselines"]["prediction_ceiling"]["affine_cv"]["mean"]],
    ]
    return rows + [[f"seconds: {k}", v] for k, v in result.get("seconds", {}).items()]


def _patching_note(patching: dict) -> str:
    return paragraph(
        f"{patching['pairs']} pairs; mean L1 distance of the last beliefs {patching['far_belief_l1']:.3f} "
        f"(control {patching['control_belief_l1']:.3f}); mean KL(Bayes_B ‖ model_A) {patching['far_kl_before']:.4f} "
        f"nats, reachable KL(Bayes_B ‖ model_B) {patching['far_kl_reachable']:.4f} (control "
        f"{patching['control_kl_before']:.4f} and {patching['control_kl_reachable']:.4f})."
    )


def write_probe_outputs(out_dir, result: dict) -> Path:
    """config.yaml, analysis.json and report.html (the figures must already be in `out_dir/figures`)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(
        out_dir / "config.yaml", yaml.safe_dump({"probe_llm": plain(result["settings"])}, sort_keys=False)
    )
    write_json(out_dir / "analysis.json", result)
    note = (
        "Rows are (sequence, position) pairs weighted uniformly; every held-out number holds out whole "
        "sequences. The permuted control shuffles the values inside each weight matrix (each layer's own)."
    )
    sections = [
        ("Summary", paragraph(note) + table(_summary_rows(result), ["quantity", "value"])),
        ("Figures", figures_html(out_dir / "figures", CAPTIONS)),
        *(
            [
                (
                    "Activation patching",
                    _patching_note(result["patching"]) + table(patching_rows(result["patching"]), PATCHING_COLUMNS),
                )
            ]
            if "patching" in result
            else []
        ),
        *(
            [
                (
                    "Belief steering",
                    _steering_note(result["steering"]) + table(steering_rows(result["steering"]), STEERING_COLUMNS),
                )
            ]
            if "steering" in result
            else []
        ),
        ("Files", "<p>Every number above is in <code>analysis.json</code> beside this page.</p>"),
    ]
    out = out_dir / "report.html"
    atomic_write_text(out, page(f"belieflab probe-llm: {out_dir.name}", sections))
    return out
