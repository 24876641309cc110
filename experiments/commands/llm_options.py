"""Options the LLM commands share: the model to load, and settings given only when set (defaults stay in the
settings dataclass, so `--help` and the code cannot disagree about them)."""

import argparse

MODEL_HELP = "smollm2-135m (default), a .gguf file or a Hugging Face safetensors directory"


def add_model_and_settings(p: argparse.ArgumentParser, options) -> None:
    """`--model` and each `(flag, type, help)` of `options`, all absent from the namespace unless given."""
    p.add_argument("--model", default=argparse.SUPPRESS, help=MODEL_HELP)
    for flag, kind, text in options:
        p.add_argument(flag, type=kind, default=argparse.SUPPRESS, help=text)
