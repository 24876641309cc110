"""`belieflab lens-llm`: logit, tuned and shared lenses on a pretrained LLM over real text, into a run directory.
Defaults live in `experiments.llm.lens.LensLLMSettings`; unset options keep them."""

import argparse

OPTIONS = (  # flag, type, help
    ("--text", str, "text file (default: the installed corpus); its last quarter is held out"),
    ("--tokens", int, "training tokens (default 4096)"),
    ("--heldout-tokens", int, "held-out tokens (default 1024)"),
    ("--window", int, "tokens per forward window (default 256)"),
    ("--train-vocab", int, "tokens in the readout used to train the lenses (default 1024)"),
    ("--steps", int, "translator training steps (default 100)"),
    ("--batch-size", int, "rows per training step (default 128)"),
    ("--transfer-every", int, "transfer matrix over every k-th layer and the last (default 5)"),
    ("--seed", int, "seed (default 0)"),
)


def add_parser(sub):
    p = sub.add_parser("lens-llm", help="logit/tuned/shared lenses on a pretrained LLM over real text")
    p.add_argument("--model", default=argparse.SUPPRESS,
                   help="smollm2-135m (default), a .gguf file or a Hugging Face safetensors directory")
    for flag, kind, text in OPTIONS:
        p.add_argument(flag, type=kind, default=argparse.SUPPRESS, help=text)
    p.add_argument("--output-dir", default=None, help="run directory (default runs/lens-llm-<model name>)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args):
    from pathlib import Path

    from experiments.llm.lens import LensLLMSettings, run_lens_llm
    from experiments.writable import check_writable

    given = {k: v for k, v in vars(args).items() if k not in ("func", "output_dir", "no_progress", "command")}
    settings = LensLLMSettings(**given)
    out = check_writable(args.output_dir or f"runs/lens-llm-{Path(settings.model).stem}", "--output-dir")
    result = run_lens_llm(settings, out, progress=not args.no_progress)
    kl = {k: result[k]["kl_model"] for k in ("logit", "tuned")}
    print(f"wrote {out}/report.html; held-out KL at layer 0: logit {kl['logit'][0]:.3f}, tuned {kl['tuned'][0]:.3f} "
          f"nats; seconds {sum(result['seconds'].values()):.0f}")
