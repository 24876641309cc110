"""A dated results page (Markdown) from run directories' files.

`python -m experiments.results_page RUN_DIR [RUN_DIR ...] --out docs/results/DATE-NAME.md` reads each run's
`config.yaml`, `metrics.jsonl`, `analysis.json` (its `environment` section names the machine and versions) and
`lenses.json` where present, and writes: the command that made the run, the loss against the optimum, the
per-site R² table with its controls, the referee's ladder, the lenses, the mean ± sd over runs when several are
given, and a copy of the headline figure under `--images` (default: docs/images beside the page's folder).
"""

import argparse
import datetime
import json
import os
import shlex
import shutil
import sys
from pathlib import Path

import numpy as np
import yaml

# Project imports, all here (the layout of `experiments/` and `analysis/` may move).
from analysis.atomic import atomic_write_text, read_jsonl
from analysis.figures.labels import format_p, format_r2
from analysis.ladder.heldout_summary import mean_sd as summarise
from experiments.config import ProcessConfig, from_dict, load_config, resolve_process
from experiments.config.shipped import shipped_configs
from experiments.llm.lens import LensLLMSettings
from hmm import display_name
from hmm.errors import LabError, MissingFileError

HEADLINE_FIGURE = "geometry"
LENS_METHODS = ("logit", "tuned", "shared")


def fmt(value, digits: int = 4) -> str:
    """A number as printed in the page ("–" for a missing one)."""
    if value is None:
        return "–"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{value:,}"
    value = float(value)
    if value != 0 and abs(value) < 10 ** -(digits - 1):
        return f"{value:.2e}"
    return f"{value:,.{digits}f}"


def r2(value) -> str:
    """An R² as the lab prints it (enough decimals that 1 − R² keeps two significant digits)."""
    return format_r2(value) if value is not None else "–"


def sd(value) -> str:
    """A standard deviation to two significant digits."""
    return "–" if value is None else f"{value:.2g}"


def spread(summary, show=r2) -> str:
    """`mean ± sd` of a `{mean, sd}` summary (just the mean when sd is None), the mean printed by `show`."""
    if not summary or summary.get("mean") is None:
        return "–"
    return show(summary["mean"]) if summary.get("sd") is None else f"{show(summary['mean'])} ± {sd(summary['sd'])}"


def mean_sd(values, show=r2) -> str:
    """`mean ± sd` (ddof 1) over the values that are present."""
    return spread(summarise(values), show)


class Run:
    """One run directory's files, read once."""

    def __init__(self, path):
        self.path = Path(path)
        config_path = self.path / "config.yaml"
        if not config_path.is_file():
            raise MissingFileError(f"{self.path} is not a run directory: it has no config.yaml")
        self.config = yaml.safe_load(config_path.read_text()) or {}
        self.metrics = read_jsonl(self.path / "metrics.jsonl")
        self.analysis = self._json("analysis.json")
        self.lenses = self._json("lenses.json")
        if self.analysis is None and self.lenses is None:
            raise MissingFileError(
                f"{self.path} has neither analysis.json nor lenses.json: run `belieflab analyze {self.path}` first"
            )

    def _json(self, name: str):
        path = self.path / name
        return json.loads(path.read_text()) if path.is_file() else None

    @property
    def name(self) -> str:
        return self.config.get("name", self.path.name)

    @property
    def recorded(self) -> datetime.date:
        """The UTC date the run's results were written."""
        path = self.path / ("analysis.json" if self.analysis is not None else "lenses.json")
        return datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.UTC).date()

    def section(self, *keys):
        """`analysis.json`'s nested value at `keys`, or None where any level is missing (the ladder's section is
        also read under its former name `baselines`)."""
        if keys and keys[0] == "ladder" and "ladder" not in (self.analysis or {}):
            keys = ("baselines", *keys[1:])
        return _get(self.analysis, *keys)


def _leaves(tree: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        out.update(_leaves(value, f"{path}.") if isinstance(value, dict) and value else {path: value})
    return out


def _override_text(path: str, value) -> str:
    text = json.dumps(value, separators=(",", ":")) if isinstance(value, (list, dict)) else value
    if isinstance(value, bool):
        text = str(value).lower()
    elif value is None:
        text = "null"
    return f"{path}={text}"


def command_line(run: Run) -> str:
    """`belieflab run NAME key=value ...`: the shipped config the run is named after plus the fields it changed;
    the saved config.yaml itself when the name is not a shipped config; `belieflab lens-llm ...` for a lens-llm
    run (its options that differ from the defaults)."""
    if "lens_llm" in run.config:
        defaults = LensLLMSettings().__dict__
        flags = [
            f"--{k.replace('_', '-')} {v}"
            for k, v in run.config["lens_llm"].items()
            if k in defaults and v != defaults[k]
        ]
        return " ".join(["belieflab lens-llm", *flags, f"--output-dir {run.path}"])
    if run.name not in shipped_configs():
        return f"belieflab run {run.path / 'config.yaml'}"
    shipped = _leaves(load_config(run.name).to_dict())
    saved = _leaves(from_dict(run.config).to_dict())  # validated, sections under their current names
    words = [f"belieflab run {run.name}"]
    for path, value in saved.items():
        if path == "output_dir":
            continue
        if path not in shipped or shipped[path] != value:
            words.append(_override_text(path, value))
    if saved.get("output_dir", "runs") != "runs":
        words.append(f"--output-dir {saved['output_dir']}")
    return " ".join(words)


def header(runs: list[Run], argv: list[str]) -> list[str]:
    """Title and the date / machine / load / versions / command table."""
    first = runs[0]
    env = first.section("environment") or {}
    process = display_name(resolve_process_from(first)) if first.config.get("process") else first.name
    dates = sorted({r.recorded for r in runs})
    date = dates[0].isoformat() if len(dates) == 1 else f"{dates[0].isoformat()} to {dates[-1].isoformat()}"
    devices = ", ".join(env.get("devices", [])) or "not recorded"
    machine = (
        (
            f"{env.get('cpu', 'CPU not recorded')}, {env.get('cpu_count', '?')} cores; JAX backend "
            f"{env.get('backend', '?')} ({devices}); {env.get('platform', '')}"
        )
        if env
        else "not recorded"
    )
    versions = ", ".join(f"{k} {env[k]}" for k in ("python", "jax", "jaxlib", "numpy") if k in env) or "not recorded"
    commands = sorted({command_line(r) for r in runs})
    lines = [
        f"# {', '.join(sorted({r.name for r in runs}))}: {process} ({date})",
        "",
        "| | |",
        "| --- | --- |",
        f"| date | {date} (when the runs' results were written, UTC) |",
        f"| machine | {machine} |",
        "| load | not recorded in the run directory |",
        f"| versions | {versions} |",
        f"| command | {'; '.join(f'`{c}`' for c in commands)} |",
        f"| runs | {', '.join(f'`{r.path}`' for r in runs)} |",
        "",
        "Generated from the run directories' files by",
        "",
        "```",
        f"python -m experiments.results_page {shlex.join(argv)}",
        "```",
        "",
    ]
    return lines


def resolve_process_from(run: Run):
    process = run.config["process"]
    return resolve_process(ProcessConfig(name=process["name"], params=process.get("params") or {}))


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


def site_table(runs: list[Run], target: str = "belief") -> list[str]:
    """Per site: in-sample R² with its shuffle null, held-out R² (random folds) with its null, the untrained
    control; mean ± sd over runs when there are several."""
    runs = [r for r in runs if r.section("trained")]
    if not runs:
        return []
    first = runs[0]
    data = first.section("data") or {}
    settings = first.section("settings") or {}
    title = "the belief state" if target == "belief" else f"the {target.replace('_', '-')}"
    lines = [
        f"## Belief regression onto {title}",
        "",
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
                    f"{r2(_get(w, 'network', group, 'r2'))} / {spread(_get(w, 'network', group, 'cv', 'r2'))}"
                    for w in weightings
                ],
            )
        )
        rows.append(
            (
                f"network `{group}`, leave belief state out",
                [spread(_get(w, "network", group, "leave_belief_state_out", "r2")) for w in weightings],
            )
        )
    for kind in ("linear", "lookup"):
        rows.append(
            (
                f"best {kind} token-history baseline (k), held out",
                [_best(_get(w, "token_history", f"best_{kind}")) for w in weightings],
            )
        )
    rows.append(
        (
            "affine map of the Bayes next-token distribution / best function of it (in sample)",
            [
                f"{r2(_get(w, 'prediction_ceiling', 'affine_r2'))} / "
                f"{r2(_get(w, 'prediction_ceiling', 'best_function_r2'))}"
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


def _get(tree, *keys):
    """`tree[k0][k1]...`, or None where any level is missing."""
    for key in keys:
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


def _best(best) -> str:
    return "–" if not best else f"{r2(best.get('cv_r2'))} (k = {best.get('k')})"


def lens_table(run: Run) -> list[str]:
    """Held-out KL(model ‖ lens) per site for the logit, tuned and shared lenses (toy runs: with belief R²)."""
    section = (run.section("lenses", "trained") if run.analysis else None) or run.lenses
    if not section or "sites" not in section:
        return []
    belief = run.section("lenses", "belief") or {}
    methods = [m for m in LENS_METHODS if section.get(m)]
    header = "| site | " + " | ".join(f"KL(model ‖ {m})" for m in methods) + (" | belief R² |" if belief else " |")
    lines = [
        f"## Lenses (`{run.path.name}`, held-out rows, nats)",
        "",
        header,
        "| --- |" + " --- |" * (len(methods) + bool(belief)),
    ]
    belief_r2 = dict(zip(belief.get("sites", []), belief.get("r2", [])))
    for i, site in enumerate(section["sites"]):
        cells = [fmt(section[m]["kl_model"][i]) if i < len(section[m]["kl_model"]) else "–" for m in methods]
        if belief:
            cells.append(r2(belief_r2.get(site)))
        lines.append(f"| `{site}` | " + " | ".join(cells) + " |")
    return lines + [""]


def figure(runs: list[Run], out: Path, images: Path) -> list[str]:
    """Copy the first run's headline figure next to the docs and link it."""
    relative = (runs[0].section("figures") or {}).get(HEADLINE_FIGURE)
    if not relative or not (runs[0].path / relative).is_file():
        return []
    images.mkdir(parents=True, exist_ok=True)
    target = images / f"{out.stem}-{HEADLINE_FIGURE}.png"
    shutil.copyfile(runs[0].path / relative, target)
    link = os.path.relpath(target, out.parent)
    return [f"![The belief geometry of `{runs[0].path.name}`: ground truth beside each site's regression]({link})", ""]


def render(run_dirs, out, images=None, argv=None, note: str = "") -> str:
    """The page's Markdown for `run_dirs` (`note`: a paragraph under the header); copies the headline figure
    into `images`."""
    out = Path(out)
    runs = [Run(d) for d in run_dirs]
    images = Path(images) if images else out.parent.parent / "images"
    parts = header(runs, argv or [*map(str, run_dirs), "--out", str(out)]) + ([note, ""] if note else [])
    parts += figure(runs, out, images) + headline(runs) + training(runs) + site_table(runs)
    for run in runs:
        parts += ladder(run) + lens_table(run)
    return "\n".join(parts).rstrip() + "\n"


def write_page(run_dirs, out, images=None, argv=None, note: str = "") -> Path:
    """Render and write the page atomically; returns its path."""
    text = render(run_dirs, out, images, argv, note)
    atomic_write_text(out, text)
    return Path(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.results_page", description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run directories (several: mean ± sd)")
    parser.add_argument("--out", required=True, help="the page to write, e.g. docs/results/2026-12-01-mess3.md")
    parser.add_argument("--images", help="folder for the headline figure (default: docs/images beside --out's folder)")
    parser.add_argument("--note", default="", help="a paragraph printed under the header (what the runs are)")
    args = parser.parse_args(argv)
    try:
        path = write_page(args.run_dirs, args.out, args.images, argv if argv is not None else sys.argv[1:], args.note)
    except (LabError, FileNotFoundError, json.JSONDecodeError, yaml.YAMLError) as err:
        print(f"results_page: error: {err}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
