"""`belieflab icl-diversity RUN_DIR...`: per pool size M, the KL of each model's predictions to the finite-pool
Bayes and to the Dirichlet Bayes predictors on held-out sequences from the pool and from the prior; the M where
the models switch from one to the other; a figure, `icl_diversity.json` and `icl_diversity.md`."""

from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "icl-diversity",
        help="distance to the finite-pool and Dirichlet Bayes predictors across "
        "pool sizes, and the task-diversity threshold",
    )
    p.add_argument("runs", nargs="+", help="run directories trained on markov_pool (or a sweep directory)")
    p.add_argument("--sequences", type=int, default=2048, help="held-out sequences per set (default 2048)")
    p.add_argument("--seed", type=int, default=0, help="seed of the held-out sequences (default 0)")
    p.add_argument(
        "--decide-on",
        choices=("prior", "pool"),
        default="prior",
        help="held-out set whose distances decide the threshold (default: prior)",
    )
    p.add_argument("--out", default=None, help="output directory (default: the runs' common parent)")
    p.set_defaults(func=run)


def run_dirs(paths) -> list[Path]:
    """The run directories named, a sweep directory standing for its points (directories with a config.yaml)."""
    from hmm.errors import MissingFileError

    out = []
    for path in map(Path, paths):
        found = [path] if (path / "config.yaml").is_file() else sorted(p.parent for p in path.glob("*/config.yaml"))
        if not found:
            raise MissingFileError(f"{path} is neither a run directory nor a sweep directory (no config.yaml)")
        out += found
    return out


def measure_runs(dirs: list[Path], num_sequences: int, seed: int) -> list[dict]:
    """One row per run: its pool size and distances (see `analysis.icl.diversity.model_distances`)."""
    from analysis.icl.diversity import model_distances
    from experiments.config.experiment import resolve_process
    from experiments.runner import load_run_config
    from models.keys import jax_key
    from models.restore import load_checkpoint

    rows = []
    keys = {"pool": jax_key(seed, "icl_pool"), "prior": jax_key(seed, "icl_prior")}
    for run_dir in dirs:
        process = resolve_process(load_run_config(run_dir).process)
        model = load_checkpoint(run_dir / "checkpoints").model
        rows.append(
            {
                "run": str(run_dir),
                "pool_size": int(process.param_dict["num_chains"]),
                "distances": model_distances(model, process, keys, num_sequences),
            }
        )
    return rows


def markdown(rows: list[dict], threshold: dict, decide_on: str) -> str:
    """A table: M, then KL to each Bayes predictor on each held-out set, and the Bayes-to-Bayes gap."""
    head = (
        "| M | pool seqs: KL to pool Bayes | pool seqs: KL to Dirichlet Bayes | prior seqs: KL to pool Bayes "
        "| prior seqs: KL to Dirichlet Bayes | prior seqs: pool↔Dirichlet gap |\n|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in sorted(rows, key=lambda r: r["pool_size"]):
        d = r["distances"]
        cells = [
            d["pool"]["pool"],
            d["pool"]["dirichlet"],
            d["prior"]["pool"],
            d["prior"]["dirichlet"],
            d["prior"]["bayes_gap"],
        ]
        lines.append(f"| {r['pool_size']} | " + " | ".join(f"{c['mean']:.4g}" for c in cells) + " |")
    lines.append(
        f"\nKL(Bayes ‖ model) in nats per token, mean over positions. Threshold (decided on {decide_on} "
        f"sequences): {threshold['status']}, M = {threshold['threshold']}, log-interpolated crossing "
        f"{threshold['crossing']}."
    )
    return "\n".join(lines) + "\n"


def run(args) -> None:
    from analysis.atomic import atomic_write_text, write_json
    from analysis.figures.icl import plot_diversity
    from analysis.icl.diversity import diversity_threshold
    from models.config import ConfigError

    if args.sequences < 1:
        raise ConfigError(f"--sequences={args.sequences} is invalid: must be >= 1")
    dirs = run_dirs(args.runs)
    rows = measure_runs(dirs, args.sequences, args.seed)
    d = [r["distances"][args.decide_on] for r in rows]
    threshold = diversity_threshold(
        [r["pool_size"] for r in rows], [x["pool"]["mean"] for x in d], [x["dirichlet"]["mean"] for x in d]
    )
    out = Path(args.out) if args.out else Path(dirs[0]).parent
    write_json(
        out / "icl_diversity.json",
        {
            "decided_on": args.decide_on,
            "num_sequences": args.sequences,
            "seed": args.seed,
            "threshold": threshold,
            "runs": rows,
        },
    )
    table = markdown(rows, threshold, args.decide_on)
    atomic_write_text(out / "icl_diversity.md", table)
    figure = plot_diversity(
        rows, threshold, out / "icl_diversity.png", title="distance to both Bayes predictors against task diversity"
    )
    print(table)
    print(f"written: {out / 'icl_diversity.json'}, icl_diversity.md and {figure}")
