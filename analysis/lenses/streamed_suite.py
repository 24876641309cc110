"""Streamed tuned and future lenses on a pretrained LLM over real text, scored on held-out windows: one call."""

import time
from dataclasses import dataclass

import numpy as np

from analysis.lenses.future_stats import solve
from analysis.lenses.future_text import future_lens_precision
from analysis.lenses.recipe import Recipe
from analysis.lenses.stream_plan import StreamPlan
from analysis.lenses.streamed import train_streamed_lens
from analysis.lenses.text_eval import kl_curve_point, text_lens_scores
from analysis.lenses.text_rows import (
    block_input_sites,
    encode_windows,
    predicted_bytes,
    text_inputs,
)
from analysis.lenses.top_vocabulary import top_vocabulary
from analysis.lenses.translator import identity, to_numpy
from analysis.lenses.window_source import CorpusWindows, SampledWindows

TEXT_SOURCES = ("corpus", "self")


@dataclass
class StreamedRun:
    """What `streamed_llm_lenses` returns: the JSON-ready `result`, the trained `StreamedLens`, and the held-out
    rows (`heldout`, a `LensInputs`) with their token windows `heldout_windows [W, window]`."""

    result: dict
    lens: object
    heldout: object
    heldout_windows: np.ndarray


def streamed_llm_lenses(
    model,
    tokenizer,
    train_text: str,
    heldout_text: str,
    plan: StreamPlan = StreamPlan(),
    text: str = "corpus",
    train_vocab: int | None = None,
    heldout_tokens: int = 1024,
    curve_tokens: int = 512,
    future_horizon: int = 3,
    future_every: int = 3,
    recipe: Recipe = Recipe(),
    progress: bool = False,
) -> StreamedRun:
    """Train the tuned lens (and the future lens's statistics) on `plan.tokens` tokens of `text` ("corpus":
    windows of `train_text`; "self": the model's own continuations of 4-token corpus prompts), then score both
    on `heldout_tokens` of `heldout_text`. `train_vocab=k` trains on a k-token readout (the tokens most
    probable on the first corpus batch) and reports that approximation's error against the full readout.

    The result's numbers are in nats unless named bits.
    """
    from analysis.lenses.inputs import LensInputError

    if text not in TEXT_SOURCES:
        raise LensInputError(f"text={text!r} is invalid: one of {list(TEXT_SOURCES)}")
    seconds, t0 = {}, time.perf_counter()
    sites = block_input_sites(model.config.n_layers)
    train_ids = np.asarray(tokenizer.encode(train_text).ids, np.int32)
    corpus = CorpusWindows(train_ids, plan.window, plan.windows_per_step, recipe.seed)
    source = corpus if text == "corpus" else SampledWindows(model, corpus)
    heldout_W = encode_windows(tokenizer, heldout_text, plan.window, heldout_tokens)
    heldout = text_inputs(model, heldout_W, sites)
    n_bytes = predicted_bytes(tokenizer, heldout_W)
    vocab = None
    if train_vocab is not None:
        probe = text_inputs(model, corpus(0), sites[-1:])
        vocab = top_vocabulary(model, probe.resid[sites[-1]], probe.next_ids_N, train_vocab)
    seconds["prepare"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    curve_rows = np.arange(min(curve_tokens, heldout.num_rows))
    lens = train_streamed_lens(
        model,
        source,
        sites,
        plan,
        recipe,
        vocab,
        future_horizon,
        kl_curve_point(model, heldout, curve_rows, sites),
        progress,
    )
    seconds["train_and_curve"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    tuned = text_lens_scores(model, heldout, sites, lens.params, n_bytes, vocab)
    logit = text_lens_scores(model, heldout, sites, to_numpy(identity(len(sites), model.config.d_model)), n_bytes)
    seconds["evaluate"] = time.perf_counter() - t0

    future = None
    if future_horizon is not None:
        t0 = time.perf_counter()
        picked = sorted(set(range(0, len(sites), future_every)) | {len(sites) - 1})
        W = solve(lens.future_stats)[picked]
        future = future_lens_precision(
            model,
            W,
            {**{sites[i]: heldout.resid[sites[i]] for i in picked}, "final": heldout.resid[sites[-1]]},
            heldout_W,
            [sites[i] for i in picked],
            train_ids,
        )
        future["layers"] = picked
        future["train_rows"] = float(lens.future_stats["rows"])
        seconds["future"] = time.perf_counter() - t0

    result = {
        "schema": "belieflab.streamed_lens/1",
        "units": "nats (bits where named)",
        "sites": list(sites),
        "layers": list(range(len(sites))),
        "plan": {**plan.__dict__, "steps": plan.steps, "tokens_per_step": plan.tokens_per_step},
        "recipe": {k: v for k, v in recipe.__dict__.items() if k not in ("sites_per_program", "eval_batch_size")}
        | {"steps": plan.steps},
        "training": {
            "text": text,
            "tokens": lens.tokens_seen,
            "train_text_tokens": len(train_ids),
            "readout_vocab": "full" if vocab is None else len(vocab),
            "loss_first": lens.losses[0].tolist(),
            "loss_last": lens.losses[-1].tolist(),
        },
        "heldout": {
            "tokens": int(heldout_W.size),
            "rows": heldout.num_rows,
            "bytes": n_bytes,
            "curve_rows": len(curve_rows),
        },
        "curve": lens.curve,
        "tuned": tuned,
        "logit": logit,
        "future": future,
        "seconds": seconds,
    }
    return StreamedRun(result, lens, heldout, heldout_W)
