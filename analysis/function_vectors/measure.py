"""Function vectors measured on one model and task: accuracy of 10-shot, label-shuffled and zero-shot prompts,
each head's causal indirect effect, the top heads, and zero-shot accuracy with the vector added at each layer,
beside the same additions of random directions of the vector's norm (the control)."""

import time
from dataclasses import asdict, dataclass

import numpy as np

from analysis.function_vectors.last_token import added_vector_outputs
from analysis.function_vectors.prompts import TaskTokens, prompt_set
from analysis.function_vectors.vector import (
    causal_indirect_effects,
    function_vector,
    mean_head_outputs,
    top_heads,
)
from models.config import ConfigError
from models.keys import numpy_rng


@dataclass(frozen=True)
class FVSettings:
    """Counts of prompts (Todd et al. 2024 use 10 shots, 25 shuffled prompts for the effects, top 10 heads)."""

    shots: int = 10
    mean_prompts: int = 20
    effect_prompts: int = 10
    zero_shot_prompts: int = 40
    top: int = 10
    random_vectors: int = 4
    seed: int = 0

    def __post_init__(self):
        for name, value in asdict(self).items():
            if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "seed" else 1):
                raise ConfigError(f"function vectors: {name}={value!r} is invalid: a positive integer")


def _top1_accuracy(model, tokens_BxP, answers_B, batch: int = 8) -> float:
    hits = [
        np.asarray(model(tokens_BxP[i : i + batch])[0])[:, -1].argmax(-1) == answers_B[i : i + batch]
        for i in range(0, len(tokens_BxP), batch)
    ]
    return float(np.concatenate(hits).mean())


def random_directions(vector_D: np.ndarray, count: int, seed: int) -> np.ndarray:
    """`[count, D]`: directions uniform on the sphere, each scaled to the norm of `vector_D`."""
    g = numpy_rng(seed, "fv_random").normal(size=(count, len(vector_D)))
    return g / np.linalg.norm(g, axis=1, keepdims=True) * np.linalg.norm(vector_D)


def measure_task(model, task: TaskTokens, settings: FVSettings = FVSettings()) -> dict:
    """Every number for one task (probabilities and accuracies in [0, 1]; layers = block inputs 0..L-1)."""
    s, t0 = settings, time.perf_counter()
    clean, clean_answers = prompt_set(task, s.mean_prompts, s.shots, s.seed)
    shuffled, shuffled_answers = prompt_set(task, s.effect_prompts, s.shots, s.seed + 1, shuffled=True)
    zero, zero_answers = prompt_set(task, s.zero_shot_prompts, 0, s.seed + 2)
    means = mean_head_outputs(model, clean)
    cie = causal_indirect_effects(model, shuffled, shuffled_answers, means)
    heads = top_heads(cie, s.top)
    vector = function_vector(model, means, heads)
    vectors = np.vstack([vector[None], random_directions(vector, s.random_vectors, s.seed)])
    p_KxBxC, top1_KxBxC = added_vector_outputs(model, zero, zero_answers, vectors)
    hits_KxBxC = top1_KxBxC == zero_answers[:, None]
    hits, p = hits_KxBxC[0], p_KxBxC[0]
    L = model.config.n_layers
    by_layer = hits[:, :L].mean(0)
    random_KxL = hits_KxBxC[1:, :, :L].mean(1)
    return {
        "task": task.name,
        "pairs": task.size,
        "prompt_tokens": {"shots": int(clean.shape[1]), "zero_shot": int(zero.shape[1])},
        "accuracy": {
            "icl": _top1_accuracy(model, clean, clean_answers),
            "shuffled": _top1_accuracy(model, shuffled, shuffled_answers),
            "zero_shot": float(hits[:, L].mean()),
            "zero_shot_fv_by_layer": by_layer.tolist(),
            "zero_shot_fv_best": float(by_layer.max()),
            "best_layer": int(by_layer.argmax()),
            "zero_shot_random_by_layer": random_KxL.mean(0).tolist(),
            "zero_shot_random_at_best_layer": random_KxL[:, by_layer.argmax()].tolist(),
        },
        "answer_probability": {
            "zero_shot": float(p[:, L].mean()),
            "fv_by_layer": p[:, :L].mean(0).tolist(),
            "random_by_layer": p_KxBxC[1:, :, :L].mean((0, 1)).tolist(),
        },
        "cie": cie.tolist(),
        "top_heads": [list(h) for h in heads],
        "top_heads_cie": [float(cie[h]) for h in heads],
        "fv_norm": float(np.linalg.norm(vector)),
        "seconds": time.perf_counter() - t0,
    }
