"""`belieflab function-vectors`: function vectors (Todd et al. 2024) of word tasks on a pretrained LLM, into a run
directory: function_vectors.json, figures/ (zero-shot accuracy with the vector added at each layer; the heads'
causal indirect effects) and report.html."""

import time
from pathlib import Path

import numpy as np

from analysis.atomic import write_json
from analysis.figures.canvas import new_figure, save_figure
from experiments.report.html import figures_html, page, table
from models.pretrained.describe import checkpoint_line

CAPTIONS = {
    "fv_accuracy_by_layer": "Zero-shot accuracy (top-1 = the answer's first token) with the function vector "
    "added to the last position's residual at each block's input; dashed: without it; dotted: random directions "
    "of the vector's norm added instead (mean over them).",
    "head_effects": "Causal indirect effect of each head (mean over label-shuffled prompts of the change in the "
    "answer's probability when the head's last-token output is set to its mean over clean prompts).",
}


def run_function_vectors(model_name: str, tasks, settings, out_dir: Path, command: str | None = None) -> dict:
    """Measure every task, write the run directory, return the dict written to function_vectors.json (`command`:
    the command line that reruns it, recorded there with the environment; `seconds`: the wall time)."""
    from analysis.function_vectors.measure import measure_task
    from analysis.function_vectors.prompts import TaskTokens
    from analysis.function_vectors.tasks import task_pairs, word_list
    from analysis.ladder.reproducibility import environment, load_average
    from models.pretrained import PretrainedError, load_pretrained
    from models.pretrained.describe import describe_checkpoint

    t0, env = time.perf_counter(), environment()
    words = word_list()
    model, tokenizer = load_pretrained(model_name)
    if tokenizer is None:
        raise PretrainedError(f"function-vectors --model {model_name}: the checkpoint has no tokenizer.json")
    checkpoint = describe_checkpoint(model_name)
    result = {
        "schema": "belieflab.function_vectors/1",
        "settings": settings.__dict__,
        "command": command,
        "model": {
            "name": checkpoint.get("metadata", {}).get("name", Path(checkpoint["path"]).stem),
            "checkpoint": checkpoint,
            "n_layers": model.config.n_layers,
            "n_heads": model.config.n_heads,
        },
        "words": {"source": "wonderwords assets/nounlist.txt", "count": len(words)},
        "tasks": {},
    }
    for name in tasks:
        task = TaskTokens.encode(tokenizer, name, task_pairs(name, words, settings.seed))
        result["tasks"][name] = measure_task(model, task, settings)
    result["environment"] = env | {"load_average_1min_end": load_average()}
    result["seconds"] = time.perf_counter() - t0
    write_outputs(Path(out_dir), result)
    return result


def write_outputs(out_dir: Path, result: dict):
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "function_vectors.json", result)
    tasks = result["tasks"]
    fig = new_figure(7, 3.8)
    ax = fig.subplots()
    for name, r in tasks.items():
        line = ax.plot(r["accuracy"]["zero_shot_fv_by_layer"], "o-", ms=3, label=name)[0]
        ax.axhline(r["accuracy"]["zero_shot"], color=line.get_color(), ls="--", lw=1)
        ax.plot(r["accuracy"]["zero_shot_random_by_layer"], ":", color=line.get_color(), lw=1)
    ax.set_xlabel("layer the vector is added at (block input)")
    ax.set_ylabel("zero-shot accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=7)
    save_figure(fig, out_dir / "figures" / "fv_accuracy_by_layer.png")
    fig = new_figure(3.2 * len(tasks), 3.6)
    for ax, (name, r) in zip(np.atleast_1d(fig.subplots(1, len(tasks))), tasks.items()):
        cie = np.asarray(r["cie"])
        image = ax.imshow(cie.T, cmap="RdBu_r", vmin=-np.abs(cie).max(), vmax=np.abs(cie).max(), aspect="auto")
        ax.set_title(name, fontsize=8)
        ax.set_xlabel("layer")
        ax.set_ylabel("head")
        fig.colorbar(image, ax=ax)
    save_figure(fig, out_dir / "figures" / "head_effects.png")
    rows = [
        [
            name,
            r["pairs"],
            r["accuracy"]["icl"],
            r["accuracy"]["shuffled"],
            r["accuracy"]["zero_shot"],
            r["accuracy"]["zero_shot_fv_best"],
            r["accuracy"]["best_layer"],
            float(np.mean(r["accuracy"]["zero_shot_random_at_best_layer"])),
            str(r["top_heads"][:3]),
        ]
        for name, r in tasks.items()
    ]
    checkpoint = result["model"]["checkpoint"]
    facts = [
        ["model", result["model"]["name"]],
        ["checkpoint file", checkpoint_line(checkpoint)],
        ["sha256", str(checkpoint["sha256"])],
        *[[k, v] for k, v in result["settings"].items()],
        ["seconds", result["seconds"]],
    ]
    sections = [
        ("Summary", table(facts, ["quantity", "value"])),
        (
            "Accuracy",
            table(
                rows,
                [
                    "task",
                    "pairs",
                    f"{result['settings']['shots']}-shot",
                    "shuffled labels",
                    "zero-shot",
                    "zero-shot + FV (best layer)",
                    "best layer",
                    "random directions there (mean)",
                    "top heads (layer, head)",
                ],
            ),
        ),
        ("Figures", figures_html(out_dir / "figures", CAPTIONS)),
    ]
    from analysis.atomic import atomic_write_text

    atomic_write_text(out_dir / "report.html", page(f"belieflab function-vectors: {out_dir.name}", sections))
