"""`belieflab compare` with a `probe-llm` run: belief R² by relative depth for toy runs and the LLM side by side,
and the LLM's in-context KL to Bayes by position.

Relative depth = site index / (number of sites - 1) in each run's own site order (toy: its single-site regression
groups; LLM: the probe's regression sites), so the first site is 0 and the last 1. R² is held out: the toy's
`trained.<site>.targets.belief.cv.r2`, the probe's `regression.trained.<site>.cv.r2`.
"""

import json
from pathlib import Path

import numpy as np

from analysis.figures.canvas import new_figure, save_figure
from experiments.report.html import figure, table
from models.config import ConfigError

PROBE_SCHEMA = "belieflab.probe_llm/1"


def read_probe(run_dir) -> dict | None:
    """The run's analysis.json if it is a probe-llm run, else None."""
    path = Path(run_dir) / "analysis.json"
    if not path.is_file():
        return None
    try:
        result = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ConfigError(f"compare: {path} is not valid JSON ({err})") from None
    return result if isinstance(result, dict) and result.get("schema") == PROBE_SCHEMA else None


def _depth(n: int) -> np.ndarray:
    return np.arange(n) / max(n - 1, 1)


def toy_belief_depth(analysis: dict) -> tuple[list, np.ndarray, np.ndarray]:
    """`(sites, depth_S, heldout_r2_S)` of a toy run's single-site belief regressions."""
    trained = analysis.get("trained") or {}
    groups = analysis.get("groups") or {g: r.get("sites") for g, r in trained.items()}
    sites = [g for g, members in groups.items() if list(members or []) == [g] and g in trained]
    r2 = [((trained[s].get("targets") or {}).get("belief") or {}).get("cv", {}) or {} for s in sites]
    if not sites or any("r2" not in fit for fit in r2):
        raise ConfigError(
            "compare: the toy run has no held-out belief R² (analysis.json trained.<site>.targets.belief.cv)"
        )
    return sites, _depth(len(sites)), np.array([fit["r2"] for fit in r2], float)


def probe_belief_depth(result: dict) -> tuple[list, np.ndarray, np.ndarray]:
    """`(sites, depth_S, heldout_r2_S)` of a probe-llm run."""
    sites = result["regression"]["sites"]
    return sites, _depth(len(sites)), np.array([result["regression"]["trained"][s]["cv"]["r2"] for s in sites])


def _process_key(process: dict) -> tuple:
    return process.get("name"), json.dumps(process.get("params") or {}, sort_keys=True)


def check_same_process(toy: dict[str, dict], probes: dict[str, dict]) -> None:
    """Every run on one process (name and parameters), else one line naming the first mismatch."""
    runs = {**{n: a.get("process") or {} for n, a in toy.items()}, **{n: r["process"] for n, r in probes.items()}}
    (first, process), *rest = runs.items()
    for name, other in rest:
        if _process_key(other) != _process_key(process):
            raise ConfigError(
                f"compare: run {name} is on process {other.get('name')} {other.get('params')} but {first} is on "
                f"{process.get('name')} {process.get('params')}; belief depth curves compare runs on one process"
            )


def belief_sections(toy: dict[str, dict], probes: dict[str, dict], out_dir: Path) -> list[tuple[str, str]]:
    """The figure (R² by depth; in-context KL by position) and the table for `compare.html`."""
    check_same_process(toy, probes)
    curves = {name: ("toy", *toy_belief_depth(a)) for name, a in toy.items()}
    curves |= {name: ("LLM", *probe_belief_depth(r)) for name, r in probes.items()}
    fig = new_figure(11, 3.8)
    ax, ax_kl = fig.subplots(1, 2)
    for name, (kind, _, depth, r2) in curves.items():
        ax.plot(depth, r2, "o-" if kind == "LLM" else "s--", ms=3, label=f"{name} ({kind})")
    ax.set_xlabel("relative depth (site index / (sites − 1))")
    ax.set_ylabel("held-out belief R²")
    ax.legend(fontsize=7)
    for name, result in probes.items():
        kl = result["in_context"]["kl_to_bayes"]["model"]
        ax_kl.plot(np.arange(1, len(kl) + 1), kl, label=f"{name}: {result['model']['name']}")
    ax_kl.set_xscale("log")
    ax_kl.set_yscale("log")
    ax_kl.set_xlabel("symbols seen (t + 1)")
    ax_kl.set_ylabel("LLM KL(Bayes ‖ model), nats")
    ax_kl.legend(fontsize=7)
    path = save_figure(fig, Path(out_dir) / "figures" / "compare_belief_depth.png")
    rows = [
        [name, kind, site, f"{d:.3f}", f"{r:.4f}"]
        for name, (kind, sites, depth, r2) in curves.items()
        for site, d, r in zip(sites, depth, r2)
    ]
    kl_rows = [
        [name, t + 1, f"{v:.4f}"]
        for name, r in probes.items()
        for t, v in enumerate(r["in_context"]["kl_to_bayes"]["model"])
    ]
    return [
        (
            "Belief R² by relative depth",
            figure(
                path,
                "Left: held-out belief R² per residual site of each run against relative depth. Right: the LLM's "
                "in-context KL(Bayes ‖ model) per position, mean over sequences.",
            ),
        ),
        ("Belief R² per site", table(rows, ["run", "kind", "site", "relative depth", "held-out belief R²"])),
        ("LLM in-context KL to Bayes", table(kl_rows, ["run", "symbols seen", "KL(Bayes ‖ model), nats"])),
    ]
