"""`belieflab function-vectors`: function vectors of word tasks on a pretrained LLM (Todd et al. 2024)."""

import argparse

from experiments.commands.llm_options import MODEL_HELP, rerun_command

COUNTS = (  # flag, help
    ("--shots", "demonstrations per prompt (default 10)"),
    ("--mean-prompts", "clean prompts whose head outputs are averaged (default 20)"),
    ("--effect-prompts", "label-shuffled prompts for the heads' indirect effects (default 10)"),
    ("--zero-shot-prompts", "zero-shot prompts scored with and without the vector (default 40)"),
    ("--top", "heads summed into the vector (default 10)"),
    ("--random-vectors", "random directions of the vector's norm added as the control (default 4)"),
    ("--seed", "seed (default 0)"),
)


def add_parser(sub):
    p = sub.add_parser("function-vectors", help="function vectors of word tasks on a pretrained LLM")
    p.add_argument(
        "--model",
        default="smollm2-135m",
        help=MODEL_HELP,
    )
    p.add_argument(
        "--tasks",
        default=None,
        help="comma-separated task names (default: all of analysis.function_vectors.tasks.TASKS)",
    )
    for flag, text in COUNTS:
        p.add_argument(flag, type=int, default=argparse.SUPPRESS, help=text)
    p.add_argument("--output-dir", default=None, help="run directory (default runs/function-vectors-<model name>)")
    p.set_defaults(func=run)


def run(args):
    from pathlib import Path

    import numpy as np

    from analysis.function_vectors.measure import FVSettings
    from analysis.function_vectors.tasks import TASKS
    from experiments.llm.function_vectors import run_function_vectors
    from experiments.writable import check_writable
    from models.config import ConfigError

    tasks = list(TASKS) if args.tasks is None else [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = [t for t in tasks if t not in TASKS]
    if unknown or not tasks:
        raise ConfigError(
            f"function-vectors --tasks={args.tasks!r} is invalid: comma-separated names from {list(TASKS)}"
        )
    counts = {
        flag[2:].replace("-", "_"): getattr(args, flag[2:].replace("-", "_"))
        for flag, _ in COUNTS
        if hasattr(args, flag[2:].replace("-", "_"))
    }
    settings = FVSettings(**counts)
    out = check_writable(args.output_dir or f"runs/function-vectors-{Path(args.model).stem}", "--output-dir")
    given = {"model": args.model, **({} if args.tasks is None else {"tasks": ",".join(tasks)}), **counts}
    command = rerun_command("function-vectors", given, out)
    result = run_function_vectors(args.model, tasks, settings, out, command)
    for name, r in result["tasks"].items():
        a = r["accuracy"]
        print(
            f"{name}: {settings.shots}-shot {a['icl']:.2f}, zero-shot {a['zero_shot']:.2f}, with the vector "
            f"{a['zero_shot_fv_best']:.2f} (layer {a['best_layer']}; random directions there "
            f"{np.mean(a['zero_shot_random_at_best_layer']):.2f})"
        )
    print(f"wrote {out}/report.html; seconds {result['seconds']:.0f}")
