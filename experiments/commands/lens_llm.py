"""`belieflab lens-llm`: tuned (streamed over a token budget), logit and future lenses on a pretrained LLM over
real text, into a run directory. Defaults live in `experiments.llm.lens.LensLLMSettings`; unset options keep them."""

import argparse

from experiments.commands.llm_options import add_model_and_settings

OPTIONS = (  # flag, type, help
    (
        "--text",
        str,
        (
            "corpus (default: windows of the text), self (the model's own continuations of 4-token "
            "prompts from it, temperature 1) or a text file read as the corpus"
        ),
    ),
    (
        "--corpus-file",
        str,
        ("the text corpus and self read (default: the installed corpus); its last quarter is held out"),
    ),
    ("--tokens", int, "training budget in tokens (default 6144: about 10 minutes on 2 CPU cores for SmolLM2-135M)"),
    ("--heldout-tokens", int, "held-out tokens (default 1024)"),
    ("--curve-tokens", int, "held-out rows of each point of the budget curve (default 512)"),
    ("--window", int, "tokens per window (default 128)"),
    ("--windows-per-step", int, "windows per training step (default 4)"),
    ("--micro-batches", int, "forward passes per step, gradients summed (default 1)"),
    ("--curve-points", int, "held-out evaluations during training (default 4, plus one before)"),
    ("--train-vocab", int, "train on a readout of this many tokens (an approximation; default: full vocabulary)"),
    ("--future-horizon", int, "future lens horizons 0..N (default 3)"),
    ("--future-every", int, "future lens scored at every k-th layer and the last (default 3)"),
    ("--transfer-every", int, "transfer matrix over every k-th layer and the last (default 5)"),
    ("--seed", int, "seed (default 0)"),
)


def add_parser(sub):
    p = sub.add_parser("lens-llm", help="tuned (streamed), logit and future lenses on a pretrained LLM over text")
    add_model_and_settings(p, OPTIONS)
    p.add_argument(
        "--published",
        action="store_true",
        default=argparse.SUPPRESS,
        help="the published budget: 250 steps of 2^18 tokens in windows of 2048 (for an accelerator)",
    )
    p.add_argument("--output-dir", default=None, help="run directory (default runs/lens-llm-<model name>)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--no-progress", dest="quiet", action="store_true", help=argparse.SUPPRESS)  # the old name
    p.set_defaults(func=run)


def run(args):
    from pathlib import Path

    from experiments.llm.lens import LensLLMSettings, run_lens_llm
    from experiments.writable import check_writable

    given = {k: v for k, v in vars(args).items() if k not in ("func", "output_dir", "quiet", "command")}
    settings = LensLLMSettings(**given)
    out = check_writable(args.output_dir or f"runs/lens-llm-{Path(settings.model).stem}", "--output-dir")
    result = run_lens_llm(settings, out, progress=not args.quiet)
    kl = {k: result[k]["kl_model"] for k in ("logit", "tuned")}
    from models.pretrained.describe import checkpoint_line

    print(f"model: {checkpoint_line(result['model'].get('checkpoint'))}")

    curve = result["curve"]
    print(
        f"wrote {out}/report.html; {result['training']['tokens']} training tokens; held-out KL at layer 0: "
        f"logit {kl['logit'][0]:.3f}, tuned {kl['tuned'][0]:.3f} nats; mean KL {curve[0]['mean_kl']:.3f} -> "
        f"{curve[-1]['mean_kl']:.3f}; model {result['model']['heldout']['bits_per_byte']:.3f} bits/byte; "
        f"seconds {sum(result['seconds'].values()):.0f}"
    )
