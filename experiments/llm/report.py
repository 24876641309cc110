"""The run directory of `belieflab lens-llm`: config.yaml, lenses.json, figures/ and report.html."""

from pathlib import Path

import numpy as np
import yaml

from analysis.atomic import atomic_write_text, write_json
from analysis.figures.canvas import drawable_text, new_figure, save_figure
from analysis.figures.labels import kl_shown
from experiments.llm.stream_figures import CAPTIONS as STREAM_CAPTIONS
from experiments.llm.stream_figures import (
    curve_rows,
    future_rows,
    plot_budget_curve,
    plot_future_lens,
)
from experiments.report.html import figures_html, page, table
from models.pretrained.describe import checkpoint_line

LENSES = (
    ("logit", "logit lens", "tab:blue"),
    ("tuned", "tuned lens", "tab:orange"),
    ("shared", "shared lens", "tab:green"),
)
CAPTIONS = {
    **STREAM_CAPTIONS,
    "kl_by_layer": "Held-out KL(model ‖ lens) per layer (nats/token); layer L is the model's own output.",
    "ce_entropy_by_layer": "Held-out cross-entropy against the observed next token and lens entropy per layer "
    "(nats/token); dashed: the model's own cross-entropy.",
    "transfer": "Tuned-lens transfer penalty: KL of translator i applied at layer j minus layer j's own (nats).",
    "logit_grid": "Logit-lens grid on the start of a held-out passage: each cell the lens's top-1 token, "
    "coloured by its probability (left: logit lens, right: tuned lens).",
}


def plot_by_layer(result: dict, metric: str, ax, model_line=None):
    layers = np.asarray(result["layers"])
    for key, label, colour in LENSES:
        values = result.get(key, {}).get(metric)
        if values is not None and metric.startswith("kl"):
            values = kl_shown(values)
        if values is not None:
            ax.plot(layers[: len(values)], values, "o-", ms=3, color=colour, label=label)
    if model_line is not None:
        ax.axhline(model_line, color="0.3", ls="--", lw=1, label="model output")
    ax.set_xlabel("layer (block input; last = model output)")


def write_figures(result: dict, figure_dir: Path):
    fig = new_figure(6.5, 3.6)
    ax = fig.subplots()
    plot_by_layer(result, "kl_model", ax)
    ax.set_yscale("symlog", linthresh=0.01)
    ax.set_ylabel("KL(model ‖ lens), nats")
    ax.legend(fontsize=8)
    ax.set_title(
        f"{(result['model'].get('checkpoint') or {}).get('file', result['model']['name'])}: lenses on held-out text",
        fontsize=10,
    )
    save_figure(fig, figure_dir / "kl_by_layer.png")

    fig = new_figure(10, 3.6)
    ax_ce, ax_h = fig.subplots(1, 2)
    plot_by_layer(result, "cross_entropy_observed", ax_ce, result["model"]["heldout"].get("cross_entropy_observed"))
    ax_ce.set_ylabel("cross-entropy vs next token, nats")
    plot_by_layer(result, "entropy", ax_h, result["model"]["heldout"].get("entropy"))
    ax_h.set_ylabel("entropy, nats")
    ax_ce.legend(fontsize=8)
    save_figure(fig, figure_dir / "ce_entropy_by_layer.png")

    fig = new_figure(5.2, 4.4)
    ax = fig.subplots()
    penalty = np.asarray(result["transfer"]["kl_model_penalty"])
    image = ax.imshow(penalty, cmap="magma_r")
    ticks = range(len(result["transfer"]["layers"]))
    ax.set_xticks(ticks, result["transfer"]["layers"], fontsize=7)
    ax.set_yticks(ticks, result["transfer"]["layers"], fontsize=7)
    ax.set_xlabel("applied at layer j")
    ax.set_ylabel("translator of layer i")
    fig.colorbar(image, ax=ax, label="KL penalty, nats")
    save_figure(fig, figure_dir / "transfer.png")

    plot_logit_grid(result["grid"], figure_dir / "logit_grid.png")
    if result.get("curve"):
        plot_budget_curve(result["curve"], figure_dir / "budget_curve.png", result["model"]["name"])
    if result.get("future"):
        plot_future_lens(result["future"], figure_dir / "future_lens.png")


def plot_logit_grid(grid: dict, path) -> Path:
    """The logit and tuned lenses' top-1 tokens on one passage, one panel above the other, coloured by their
    probability (with its colour bar); tokens the font cannot draw are written as code points."""
    n_sites, n_pos = len(grid["sites"]), len(grid["tokens"])
    fig = new_figure(2.0 + 0.95 * n_pos, 2 * (0.9 + 0.3 * n_sites))
    axes = fig.subplots(2, 1)
    for ax, name in zip(axes, ("logit", "tuned")):
        prob = np.asarray(grid[name]["prob"])
        image = ax.imshow(prob, cmap="Blues", vmin=0, vmax=1, aspect="auto")
        for i in range(n_sites):
            for j in range(n_pos):
                ax.text(
                    j,
                    i,
                    drawable_text(grid[name]["top1"][i][j], 8),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if prob[i, j] > 0.6 else "black",
                )
        ax.set_xticks(range(n_pos), [drawable_text(t, 8) for t in grid["tokens"]], rotation=45, ha="right", fontsize=9)
        ax.set_yticks(range(n_sites), [str(i) for i in range(n_sites)], fontsize=8)
        ax.set_ylabel("layer (0 = embedding)")
        ax.set_xlabel("input token at each position")
        ax.set_title(f"{name} lens: top-1 next token", fontsize=11)
        fig.colorbar(image, ax=ax, label="probability of the top-1 token", shrink=0.9)
    return save_figure(fig, path)


def summary_rows(result: dict) -> list[list]:
    rows = [
        [
            label,
            kl_shown(result[key]["kl_model"][0]),
            kl_shown(result[key]["kl_model"][len(result["layers"]) // 2]),
            kl_shown(result[key]["kl_model"][-1]) if len(result[key]["kl_model"]) == len(result["layers"]) else "-",
        ]
        for key, label, _ in LENSES
        if key in result
    ]
    return rows


def write_lens_llm_outputs(out_dir, result: dict) -> Path:
    """Write config.yaml, lenses.json, figures and report.html into `out_dir`."""
    out_dir = Path(out_dir)
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "config.yaml", yaml.safe_dump({"lens_llm": result["settings"]}, sort_keys=False))
    write_json(out_dir / "lenses.json", result)
    write_figures(result, out_dir / "figures")
    text, model = result["text"], result["model"]
    checkpoint = model.get("checkpoint", {})
    facts = [
        ["model", model["name"]],
        ["checkpoint file", checkpoint_line(checkpoint)],
        ["sha256", checkpoint.get("sha256", "-")],
        ["layers", model["config"]["n_layers"]],
        ["text", f"{text['path']} ({text.get('mode', 'corpus')})"],
        ["training tokens", text["train_tokens"]],
        [
            "held-out tokens / rows / bytes",
            f"{text['heldout_tokens']} / {text['heldout_rows']} / {text.get('heldout_bytes', '-')}",
        ],
        ["training readout vocabulary", text["train_vocab"]],
        ["model cross-entropy on held-out text (nats/token)", model["heldout"].get("cross_entropy_observed")],
        ["model bits per byte on held-out text", model["heldout"].get("bits_per_byte", "-")],
        *[[f"seconds: {k}", v] for k, v in result["seconds"].items()],
    ]
    mid = len(result["layers"]) // 2
    sections = [
        ("Summary", table(facts, ["quantity", "value"])),
        ("Held-out KL(model ‖ lens), nats", table(summary_rows(result), ["lens", "layer 0", f"layer {mid}", "last"])),
        *(
            [
                (
                    "Held-out KL over the training budget",
                    table(curve_rows(result["curve"]), ["tokens", "mean KL", "layer 0", "middle layer"]),
                )
            ]
            if result.get("curve")
            else []
        ),
        *(
            [
                (
                    "Future lens precision@1 (vs model / vs real token)",
                    table(future_rows(result["future"]), ["", *[f"N = {n}" for n in result["future"]["horizons"]]]),
                )
            ]
            if result.get("future")
            else []
        ),
        ("Figures", figures_html(out_dir / "figures", CAPTIONS)),
        ("Files", "<p>Every number above is in <code>lenses.json</code> beside this page.</p>"),
    ]
    out = out_dir / "report.html"
    atomic_write_text(out, page(f"belieflab lens-llm: {out_dir.name}", sections))
    return out
