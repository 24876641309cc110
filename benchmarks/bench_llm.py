"""SmolLM2-135M forward pass: JAX against transformers/torch on the same tokens in the same run, and the
cost of capturing every residual site; prints one JSON object.

    python -m benchmarks.bench_llm                  # 8 x 512 tokens, 5 timed repeats each
    python -m benchmarks.bench_llm --batch 2 --length 128 --repeats 3

Both models read the same GGUF file (dequantised to float32); the tokens are random ids from the
vocabulary (the cost of a dense forward pass does not depend on which ids they are). Times are the
median of the repeats after one warm-up call each (which compiles the JAX functions); the three
contestants run interleaved, one call each per round, so a machine whose load drifts (a shared
2-core box) slows them alike.
"""

import argparse
import json
import os
import platform
import time

import jax
import numpy as np

from models.pretrained import load_pretrained
from models.pretrained.load import shipped_model_path


def torch_forward(model, tokens):
    """transformers' forward pass without gradients, as a zero-argument function."""
    import torch

    batch = torch.tensor(tokens)

    def forward():
        with torch.inference_mode():
            return model(batch).logits
    return forward


def interleaved_medians(contestants: dict, repeats: int) -> dict:
    """`{name: median seconds}`: one warm-up call each, then `repeats` rounds of one call each."""
    for fn in contestants.values():
        jax.block_until_ready(fn())
    times = {name: [] for name in contestants}
    for _ in range(repeats):
        for name, fn in contestants.items():
            start = time.perf_counter()
            jax.block_until_ready(fn())
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-torch", action="store_true", help="skip the transformers comparison")
    args = parser.parse_args(argv)

    model, _ = load_pretrained("smollm2-135m")
    tokens = np.random.default_rng(0).integers(0, model.config.vocab_size, (args.batch, args.length))
    result = {"model": "smollm2-135m", "batch": args.batch, "length": args.length, "repeats": args.repeats,
              "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores", "jax_backend": jax.default_backend(),
              "load_average_at_start": os.getloadavg()[0]}
    start = time.perf_counter()
    jax.block_until_ready(model(tokens)[0])
    result["jax_first_call_s"] = time.perf_counter() - start
    contestants = {"jax_capture_none_s": lambda: model(tokens)[0],
                   "jax_capture_all_s": lambda: model(tokens, capture="all")}
    if not args.no_torch:
        import torch
        from transformers import AutoModelForCausalLM

        path = shipped_model_path("smollm2-135m")
        reference = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32).eval()
        result["torch_threads"] = torch.get_num_threads()
        contestants["torch_s"] = torch_forward(reference, tokens)
    result |= interleaved_medians(contestants, args.repeats)
    result["capture_all_overhead"] = result["jax_capture_all_s"] / result["jax_capture_none_s"] - 1
    if "torch_s" in result:
        result["jax_speedup_over_torch"] = result["torch_s"] / result["jax_capture_none_s"]
    result["load_average_at_end"] = os.getloadavg()[0]
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
