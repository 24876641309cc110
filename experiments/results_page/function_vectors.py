"""The page of a `belieflab function-vectors` run (function_vectors.json, no config.yaml): per task the few-shot,
shuffled-label, zero-shot and zero-shot-plus-vector accuracies, the random-direction control at the best layer,
the top heads, and the zero-shot accuracy with the vector at every layer."""

from pathlib import Path

import numpy as np

from experiments.results_page.common import JsonRun, copy_figure, fmt, generic_section, get, table
from models.pretrained.describe import checkpoint_line

RENDERED = {"schema", "settings", "command", "model", "words", "tasks", "environment", "seconds"}
TOP_HEADS_SHOWN = 3


class FunctionVectorsRun(JsonRun):
    """One function-vectors run directory, read once."""

    def __init__(self, path):
        super().__init__(path, "function_vectors.json")
        self.subject = f"function vectors of {get(self.result, 'model', 'name')}"


def accuracy(value) -> str:
    """An accuracy (a fraction of prompts) to four decimals."""
    return fmt(value, 4)


def setup(run: FunctionVectorsRun) -> list[str]:
    r = run.result
    model, words = r.get("model") or {}, r.get("words") or {}
    rows = [
        ["model", f"{model.get('name')} ({model.get('n_layers')} layers × {model.get('n_heads')} heads)"],
        ["checkpoint", f"{checkpoint_line(model.get('checkpoint'))}, sha256 `{get(model, 'checkpoint', 'sha256')}`"],
        ["words", f"{words.get('source')} ({fmt(words.get('count'))} words)"],
        ["settings", ", ".join(f"{k} {v}" for k, v in (r.get("settings") or {}).items())],
        ["wall seconds", fmt(r.get("seconds"), 1)],
        ["seconds by task", ", ".join(f"{k} {fmt(t.get('seconds'), 1)}" for k, t in r["tasks"].items())],
    ]
    return [f"## Setup (`{run.name}`)", ""] + table(["quantity", "value"], rows)


def top_heads(task: dict) -> str:
    heads = zip(task.get("top_heads", [])[:TOP_HEADS_SHOWN], task.get("top_heads_cie", []))
    return ", ".join(f"L{layer}.H{head} ({fmt(effect, 3)})" for (layer, head), effect in heads)


def accuracy_table(run: FunctionVectorsRun) -> list[str]:
    settings = run.result.get("settings") or {}
    rows = []
    for name, task in run.result["tasks"].items():
        a = task["accuracy"]
        random = a.get("zero_shot_random_at_best_layer") or []
        rows.append(
            [
                f"`{name}`",
                fmt(task.get("pairs")),
                accuracy(a.get("icl")),
                accuracy(a.get("shuffled")),
                accuracy(a.get("zero_shot")),
                accuracy(a.get("zero_shot_fv_best")),
                fmt(a.get("best_layer")),
                f"{accuracy(np.mean(random))} / {accuracy(np.max(random))} ({len(random)})" if random else "–",
                fmt(task.get("fv_norm"), 1),
                top_heads(task),
            ]
        )
    columns = [
        "task",
        "pairs",
        f"{settings.get('shots', '?')}-shot",
        "shuffled labels",
        "zero-shot",
        "zero-shot + FV (best layer)",
        "best layer",
        "random directions at the best layer: mean / max (count)",
        "FV norm",
        f"top {TOP_HEADS_SHOWN} heads (causal indirect effect)",
    ]
    intro = (
        f"Accuracies are fractions of prompts ({settings.get('zero_shot_prompts', '?')} zero-shot prompts per "
        "task); the random-direction control adds directions of the vector's norm at the best layer instead."
    )
    return ["## Accuracy per task", "", intro, ""] + table(columns, rows)


def by_layer(run: FunctionVectorsRun) -> list[str]:
    tasks = run.result["tasks"]
    curves = {name: t["accuracy"].get("zero_shot_fv_by_layer") or [] for name, t in tasks.items()}
    depth = max(map(len, curves.values()), default=0)
    if not depth:
        return []
    rows = [
        [layer, *(accuracy(c[layer]) if layer < len(c) else "–" for c in curves.values())] for layer in range(depth)
    ]
    title = "## Zero-shot accuracy with the vector added at each layer (block input)"
    return [title, ""] + table(["layer", *(f"`{n}`" for n in curves)], rows)


def function_vector_sections(runs: list[FunctionVectorsRun], out: Path, images: Path) -> list[str]:
    """Every run's tables, then any section of its JSON this page has no table for."""
    first = runs[0]
    alt = f"Zero-shot accuracy of `{first.name}` with the function vector added at each layer"
    parts = copy_figure(first.path / "figures" / "fv_accuracy_by_layer.png", out, images, "fv_accuracy", alt)
    for run in runs:
        parts += setup(run) + accuracy_table(run) + by_layer(run)
        for name in run.result:
            if name not in RENDERED:
                parts += generic_section(name, run.result[name])
    return parts
