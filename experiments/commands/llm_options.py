"""Options the LLM commands share: the model to load, and settings given only when set (defaults stay in the
settings dataclass, so `--help` and the code cannot disagree about them)."""

import argparse

MODEL_HELP = "smollm2-135m (default), a .gguf file or a Hugging Face safetensors directory"


def add_model_and_settings(p: argparse.ArgumentParser, options) -> None:
    """`--model` and each `(flag, type, help)` of `options`, all absent from the namespace unless given."""
    p.add_argument("--model", default=argparse.SUPPRESS, help=MODEL_HELP)
    for flag, kind, text in options:
        p.add_argument(flag, type=kind, default=argparse.SUPPRESS, help=text)


def rerun_command(command: str, given: dict, output_dir) -> str:
    """`belieflab COMMAND --flag value ...` from the options that were given (`{name: value}`; True: a bare flag,
    a list or tuple: one word per item, a dict: `--name k=v` per item) and the run directory, shell-quoted."""
    import shlex

    words = ["belieflab", command]
    for name, value in given.items():
        flag = f"--{name.replace('_', '-')}"
        if value is True:
            words.append(flag)
        elif isinstance(value, dict):
            for key, item in value.items():
                words += [flag, f"{key}={item}"]
        elif isinstance(value, (list, tuple)):
            words += [flag, *map(str, value)]
        elif value is not None and value is not False:
            words += [flag, str(value)]
    return shlex.join([*words, "--output-dir", str(output_dir)])
