"""`belieflab probe-llm`: a pretrained LLM fed a hidden-Markov process rendered as text, asked for Bayes: in-context
prediction against Bayes and n-gram estimators, belief regression per residual site with controls, lenses.
Defaults live in `experiments.llm.probe.ProbeSettings`; unset options keep them."""

import argparse

from experiments.commands.llm_options import add_model_and_settings, rerun_command

OPTIONS = (  # flag, type, help
    ("--process", str, "registered process or process file (default mess3)"),
    ("--sequences", int, "sampled sequences N (default 32: about 10 minutes on 2 CPU cores)"),
    ("--length", int, "symbols per sequence T (default 256)"),
    ("--separator", str, "text after every symbol, e.g. ',' (default none)"),
    ("--sites", str, "'layers' (each block's input and the final residual; default) or 'all' residual sites"),
    ("--folds", int, "cross-validation folds of whole sequences (default 5)"),
    ("--shuffles", int, "in-sample shuffle permutations (default 100)"),
    ("--cv-shuffles", int, "held-out shuffle permutations (default 20)"),
    ("--history-k", int, "token-history baselines up to the last k tokens (default 5)"),
    ("--alpha", float, "pseudo-count of the n-gram estimators (default 0.5)"),
    ("--tuned-steps", int, "tuned-lens training steps, 0 for none (default 100)"),
    ("--batch-size", int, "sequences per forward pass (default 4)"),
    ("--seed", int, "seed (default 0)"),
    ("--steering-pairs", int, "with --steering: sequences steered (default 16, or all if fewer)"),
)


def add_parser(sub):
    p = sub.add_parser("probe-llm", help="a pretrained LLM on a process rendered as text: beliefs, Bayes, lenses")
    add_model_and_settings(p, OPTIONS)
    p.add_argument("--param", action="append", default=[], metavar="K=V", help="process parameter, e.g. x=0.1")
    p.add_argument(
        "--symbols",
        nargs="+",
        default=argparse.SUPPRESS,
        help="one string per process token, each a single tokenizer token (default ' A' ' B' ...)",
    )
    p.add_argument(
        "--ngram-orders",
        nargs="+",
        type=int,
        default=argparse.SUPPRESS,
        help="orders of the in-context n-gram estimators (default 1 2 3)",
    )
    p.add_argument(
        "--patching",
        action="store_true",
        default=argparse.SUPPRESS,
        help="also patch each layer's residual between sequences of different last belief (adds forward passes)",
    )
    p.add_argument(
        "--steering",
        action="store_true",
        default=argparse.SUPPRESS,
        help="also steer each layer's residual at the last symbol toward another sequence's belief (decoder and "
        "encoder steps, same-norm random controls); adds 4 forward passes per layer and steered sequence",
    )
    p.add_argument("--output-dir", default=None, help="run directory (default runs/probe-llm-<model>-<process>)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args):
    from pathlib import Path

    from experiments.commands.process import parse_params
    from experiments.llm.probe import ProbeSettings, run_probe
    from experiments.writable import check_writable

    given = {k: v for k, v in vars(args).items() if k not in ("func", "output_dir", "quiet", "command", "param")}
    for key in ("symbols", "ngram_orders"):
        if key in given:
            given[key] = tuple(given[key])
    settings = ProbeSettings(**given, params=parse_params(args.param))
    out = check_writable(
        args.output_dir or f"runs/probe-llm-{Path(settings.model).stem}-{Path(settings.process).stem}", "--output-dir"
    )
    params = dict(p.split("=", 1) for p in args.param if "=" in p)
    command = rerun_command("probe-llm", given | ({"param": params} if params else {}), out)
    result = run_probe(settings, out, progress=not args.quiet, command=command)
    s = result["summary"]
    print(
        f"wrote {out}/report.html; KL(Bayes || model) at the last position {s['kl_last']['model']:.4f} nats; "
        f"best site {s['best_site']} held-out belief R2 {s['best_cv_r2']:.3f} (weights permuted "
        f"{s['permuted_best_cv_r2']:.3f}, last {settings.history_k} tokens {s['history_lookup_cv_r2']:.3f}); "
        f"seconds {sum(result['seconds'].values()):.0f}"
    )
    if "patching" in result:
        modes = result["patching"]["modes"]
        print(
            "patching: fraction of the KL gap closed per layer, all positions "
            + " ".join(f"{v:.2f}" for v in modes["all"]["far"])
            + "; last position "
            + " ".join(f"{v:.2f}" for v in modes["last"]["far"])
            + "; same-belief control (last position) "
            + " ".join(f"{v:.2f}" for v in modes["last"]["control"])
        )
    if "steering" in result:
        removed = result["steering"]["removed"]
        print(
            "steering: fraction of KL(Bayes_target || unsteered) removed per layer, decoder step "
            + " ".join("-" if v is None else f"{v:.2f}" for v in removed["belief"])
            + "; same-norm random "
            + " ".join("-" if v is None else f"{v:.2f}" for v in removed["random"])
        )
