"""`belieflab compare RUN... LLM_RUN`: lens curves of toy and LLM runs on one depth-normalised axis, the
transfer matrices side by side, and published reference points, in one HTML page.

With a probe-llm run among them, also belief R² by relative depth (`compare_beliefs`) and each lens's KL to the
Bayes prediction by relative depth (`compare_lens_bayes`); the toy runs must then have lens results.

Depth = site index / (number of sites - 1), so the embedding is 0 and the model's output is 1.
KL is shown as a fraction of the logit lens's KL at depth 0 (the readout of the raw embedding).
"""

import html
import json
from pathlib import Path

import numpy as np
import yaml

from analysis.atomic import atomic_write_text
from analysis.figures.canvas import new_figure, save_figure
from analysis.figures.labels import kl_shown
from experiments.report.compare_beliefs import belief_sections, read_probe
from experiments.report.compare_lens_bayes import lens_bayes_inputs, lens_bayes_sections
from experiments.report.html import figure, page, table
from hmm.errors import MissingFileError
from models.config import ConfigError

REFERENCES = Path(__file__).resolve().parent.parent / "data" / "lens_references.yaml"
LENSES = ("logit", "tuned", "shared")


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ConfigError(f"compare: {path} is not valid JSON ({err})") from None


def load_lens_section(run_dir) -> dict:
    """A run's lens numbers: `lenses.json` (lens-llm) or the `lenses` section of `analysis.json` (toy runs)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise MissingFileError(f"compare: run directory {run_dir} does not exist")
    if (run_dir / "lenses.json").is_file():
        section = _read_json(run_dir / "lenses.json")
    elif (run_dir / "analysis.json").is_file():
        section = _read_json(run_dir / "analysis.json").get("lenses")
        section = section.get("trained", section) if isinstance(section, dict) else section  # the trained model's
    else:
        raise MissingFileError(f"compare: {run_dir} has neither lenses.json nor analysis.json")
    if not isinstance(section, dict) or "logit" not in section or "sites" not in section:
        raise ConfigError(
            f"compare: {run_dir} has no lens results (expected 'sites' and 'logit' in lenses.json "
            "or in analysis.json's 'lenses' section)"
        )
    return section


def depth_curves(section: dict) -> dict:
    """`{lens: (depth_S, kl_fraction_S)}` for the lenses present."""
    reference = float(section["logit"]["kl_model"][0])
    curves = {}
    for lens in LENSES:
        values = (section.get(lens) or {}).get("kl_model")
        if values:
            values = kl_shown(values)
            depth = np.arange(len(values)) / max(len(section["sites"]) - 1, 1)
            curves[lens] = (depth, values / reference if reference > 0 else values)
    return curves


def transfer_matrix(section: dict):
    transfer = section.get("transfer") or {}
    penalty = transfer.get("kl_model_penalty")
    return None if penalty is None else np.asarray(penalty, float)


def transfer_labels(section: dict) -> tuple[list[str], str]:
    """Tick labels of a transfer matrix and what they are: the LLM's layer numbers (its matrix covers every
    k-th layer), else the toy model's site names."""
    transfer = section.get("transfer") or {}
    if transfer.get("layers") is not None:
        return [str(layer) for layer in transfer["layers"]], "layer"
    return list(transfer.get("sites") or section["sites"]), "site"


def checkpoint_text(section: dict) -> str:
    """The model a run's lenses read: the LLM's checkpoint file and quantisation, or the toy run's own model."""
    from models.pretrained.describe import checkpoint_line

    model = section.get("model") or {}
    if model.get("checkpoint"):
        return checkpoint_line(model["checkpoint"])
    return model.get("name") or "trained in this run (checkpoints/)"


def _has_lenses(run_dir) -> bool:
    try:
        load_lens_section(run_dir)
    except ConfigError:
        return False
    return True


def _toy_analysis(run_dir) -> dict:
    path = Path(run_dir) / "analysis.json"
    if not path.is_file():
        raise MissingFileError(f"compare: {run_dir} has no analysis.json (a toy run beside a probe-llm run)")
    return _read_json(path)


def write_compare(run_dirs, out_dir) -> Path:
    """Write `compare.html` (and its figures) comparing the runs' lenses; with probe-llm runs among them, also
    belief R² and lens KL to Bayes by relative depth of the toy runs and the LLM, and the LLM's in-context KL."""
    out_dir = Path(out_dir)
    probes = {Path(r).name: p for r in run_dirs if (p := read_probe(r)) is not None}
    others = [r for r in run_dirs if Path(r).name not in probes]
    sections = []
    if probes:
        toy = {Path(r).name: _toy_analysis(r) for r in others if not (Path(r) / "lenses.json").is_file()}
        lens_runs = lens_bayes_inputs(toy, probes)  # every run checked before any figure is written
        sections += belief_sections(toy, probes, out_dir)
        sections += lens_bayes_sections(lens_runs, out_dir)
        others = [r for r in others if _has_lenses(r)]
    runs = [(Path(r).name, load_lens_section(r)) for r in others]
    if runs:
        sections += _lens_sections(runs, out_dir)
    references = yaml.safe_load(REFERENCES.read_text())
    sections.append(
        (
            "Published reference points (listed with provenance; not drawn where units differ)",
            table(
                [[r["source"], r["model"], r["quantity"], r["value"], r["note"]] for r in references],
                ["source", "model", "quantity", "value", "note"],
            ),
        )
    )
    out = out_dir / "compare.html"
    names = [*probes, *(Path(r).name for r in run_dirs if Path(r).name not in probes)]
    atomic_write_text(out, page("belieflab compare: " + html.escape(", ".join(names)), sections))
    return out


def _lens_sections(runs: list[tuple[str, dict]], out_dir: Path) -> list[tuple[str, str]]:
    """The lens KL figure, the transfer matrices and the runs table."""
    fig = new_figure(7.5, 4.2)
    ax = fig.subplots()
    styles = {"logit": "--", "tuned": "-", "shared": ":"}
    for colour, (name, section) in zip(("tab:blue", "tab:red", "tab:green", "tab:purple", "tab:brown") * 4, runs):
        for lens, (depth, frac) in depth_curves(section).items():
            ax.plot(depth, frac, styles[lens], marker="o", ms=2.5, color=colour, label=f"{name}: {lens}")
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_xlabel("depth (layer / number of layers; 1 = model output)")
    ax.set_ylabel("KL(model ‖ lens) / logit-lens KL at depth 0")
    ax.legend(fontsize=7, ncol=2)
    kl_path = save_figure(fig, out_dir / "figures" / "compare_kl_depth.png")

    matrices = [(name, transfer_matrix(section), section) for name, section in runs]
    matrices = [(n, m, s) for n, m, s in matrices if m is not None]
    sections = [
        (
            "Lens KL on one depth axis",
            figure(
                kl_path,
                "Held-out KL of each lens to the model's output, as a "
                "fraction of the logit lens's KL at the embedding.",
            ),
        )
    ]
    if matrices:
        fig = new_figure(3.6 * len(matrices), 3.6)
        for ax, (name, m, section) in zip(np.atleast_1d(fig.subplots(1, len(matrices))), matrices):
            image = ax.imshow(m / max(m.max(), 1e-12), cmap="magma_r", vmin=0, vmax=1)
            labels, kind = transfer_labels(section)
            ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=7)
            ax.set_yticks(range(len(labels)), labels, fontsize=7)
            ax.set_title(f"{name} (max {m.max():.3g} nats)", fontsize=8)
            ax.set_xlabel(f"applied at {kind} j")
            ax.set_ylabel(f"translator of {kind} i")
        fig.colorbar(image, ax=ax, label="penalty / its maximum")
        sections.append(
            (
                "Transfer matrices",
                figure(
                    save_figure(fig, out_dir / "figures" / "compare_transfer.png"),
                    "Tuned-lens transfer penalty (KL), each scaled by its maximum.",
                ),
            )
        )
    rows = [
        [
            name,
            checkpoint_text(s),
            len(s["sites"]),
            kl_shown(s["logit"]["kl_model"][0]),
            kl_shown((s.get("tuned") or {}).get("kl_model", [None])[0]),
        ]
        for name, s in runs
    ]
    sections.append(
        (
            "Runs",
            table(
                rows, ["run", "model checkpoint", "sites", "logit KL at depth 0 (nats)", "tuned KL at depth 0 (nats)"]
            ),
        )
    )
    return sections
