"""Lenses on a pretrained LLM over real text: the tuned lens streamed over a token budget (full-vocabulary KL;
held-out KL measured during training, the budget curve), the logit lens, the future lens (least squares from
the same pass, precision@1 beside a skip-bigram baseline), the transfer matrix and a logit-lens grid of one
held-out passage, into a run directory with the exact checkpoint and its quantisation.

Training text: windows of the training part of a text file (`text="corpus"` or a file path), or the model's
own continuations of short prompts from it (`text="self"`, self-distillation at temperature 1). Held-out
text: the end of the file. `train_vocab=k` trains on a k-token readout (an approximation whose error against
the full readout is reported); every reported number uses the full vocabulary.
"""

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from hmm.errors import MissingFileError
from models.config import ConfigError

LENS_LLM_SCHEMA = "belieflab.lens_llm/2"  # the streamed tuned lens, its budget curve and the future lens

TEXT_MODES = ("corpus", "self")


@dataclass(frozen=True)
class LensLLMSettings:
    """What `belieflab lens-llm` runs (validated before any model is loaded)."""

    model: str = "smollm2-135m"
    text: str = "corpus"  # corpus | self | a text file (read as the corpus)
    corpus_file: str | None = None  # the text that corpus and self read (default: the installed corpus)
    tokens: int = 6144  # training budget in tokens
    published: bool = False  # the published budget instead: 250 steps of 2^18 tokens (accelerator)
    heldout_tokens: int = 1024
    curve_tokens: int = 512  # held-out rows of each budget-curve point
    window: int = 128
    windows_per_step: int = 4
    micro_batches: int = 1
    curve_points: int = 4
    heldout_fraction: float = 0.25
    train_vocab: int | None = None  # None: the full vocabulary
    future_horizon: int = 3
    future_every: int = 3  # future lens scored at every k-th layer (and the last)
    transfer_every: int = 5  # transfer matrix over every k-th site (and the last)
    grid_tokens: int = 12
    seed: int = 0

    def __post_init__(self):
        for name, low in (
            ("tokens", 2),
            ("heldout_tokens", 2),
            ("curve_tokens", 1),
            ("window", 3),
            ("windows_per_step", 1),
            ("micro_batches", 1),
            ("curve_points", 1),
            ("future_horizon", 0),
            ("future_every", 1),
            ("transfer_every", 1),
            ("grid_tokens", 1),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"lens-llm --{name.replace('_', '-')}={value!r} is invalid: an integer >= {low}")
        if self.train_vocab is not None and (not isinstance(self.train_vocab, int) or self.train_vocab < 2):
            raise ConfigError(f"lens-llm --train-vocab={self.train_vocab!r} is invalid: an integer >= 2 (or unset)")
        from analysis.lenses.stream_plan import PUBLISHED_WINDOW

        window = PUBLISHED_WINDOW if self.published else self.window
        if window > self.heldout_tokens:
            raise ConfigError(
                f"lens-llm --heldout-tokens={self.heldout_tokens} is invalid: at least one window of "
                f"{window} tokens{' (--published)' if self.published else ''}"
            )
        if self.future_horizon >= self.window - 1:
            raise ConfigError(f"lens-llm --future-horizon={self.future_horizon} is invalid: below --window - 1")
        if not 0 < self.heldout_fraction < 1:
            raise ConfigError(f"lens-llm --heldout-fraction={self.heldout_fraction} is invalid: in (0, 1)")

    def plan(self):
        from analysis.lenses.stream_plan import StreamPlan

        if self.published:
            return StreamPlan.published()
        try:
            return StreamPlan(self.tokens, self.window, self.windows_per_step, self.micro_batches, self.curve_points)
        except ConfigError as error:
            raise ConfigError(f"lens-llm: {error}") from None


def _read_text(settings: LensLLMSettings) -> tuple[Path, str, str]:
    """`(path, mode, text)`: the file corpus and self read, the mode, and its UTF-8 contents."""
    from experiments.llm.corpus import corpus_path

    mode = settings.text if settings.text in TEXT_MODES else "corpus"
    named = settings.corpus_file or (settings.text if settings.text not in TEXT_MODES else None)
    path = Path(named) if named else corpus_path()
    if not path.is_file():
        raise MissingFileError(f"lens-llm --text {path}: no such file")
    try:
        return path, mode, path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"lens-llm --text {path}: not UTF-8 text") from None


def lens_grid(model, tokenizer, readout, params, resid_rows: dict, sites, tokens_P) -> dict:
    """Top-1 token (decoded) and its probability of the logit and tuned lenses at each site and position."""
    import jax
    import jax.numpy as jnp

    from analysis.lenses import logit_lens_logits
    from analysis.lenses.translator import take, translate

    out = {"tokens": [tokenizer.decode([int(t)]) for t in tokens_P], "sites": list(sites)}
    for name in ("logit", "tuned"):
        top, prob = [], []
        for i, site in enumerate(sites):
            h = jnp.asarray(resid_rows[site])
            if name == "tuned":
                h = translate(take(params, i), h)
            p = jax.nn.softmax(logit_lens_logits(readout, h), -1)
            top.append([tokenizer.decode([int(t)]) for t in np.asarray(p.argmax(-1))])
            prob.append(np.asarray(p.max(-1)).tolist())
        out[name] = {"top1": top, "prob": prob}
    return out


def run_lens_llm(settings: LensLLMSettings, out_dir: Path, progress: bool = True) -> dict:
    """Everything `belieflab lens-llm` does; returns the dict written to `lenses.json`."""
    from analysis.lenses import Readout, Recipe, tuned_transfer
    from analysis.lenses.streamed_suite import streamed_llm_lenses
    from experiments.llm.corpus import split_text
    from experiments.llm.report import write_lens_llm_outputs
    from models.pretrained import PretrainedError, load_pretrained
    from models.pretrained.describe import describe_checkpoint

    t0 = time.perf_counter()
    plan = settings.plan()
    text_path, mode, text = _read_text(settings)
    train_text, heldout_text = split_text(text, settings.heldout_fraction)
    model, tokenizer = load_pretrained(settings.model)
    if tokenizer is None:
        raise PretrainedError(f"lens-llm --model {settings.model}: the checkpoint has no tokenizer.json")
    checkpoint = describe_checkpoint(settings.model)
    load_seconds = time.perf_counter() - t0
    run = streamed_llm_lenses(
        model,
        tokenizer,
        train_text,
        heldout_text,
        plan,
        mode,
        settings.train_vocab,
        settings.heldout_tokens,
        settings.curve_tokens,
        settings.future_horizon,
        settings.future_every,
        Recipe(seed=settings.seed),
        progress,
    )
    result, sites, heldout = run.result, run.result["sites"], run.heldout

    t0 = time.perf_counter()
    full = Readout.from_model(model)
    picked = sorted(set(range(0, len(sites), settings.transfer_every)) | {len(sites) - 1})
    transfer = tuned_transfer(
        full,
        heldout,
        np.arange(heldout.num_rows),
        [sites[i] for i in picked],
        {k: np.asarray(v)[picked] for k, v in run.lens.params.items()},
        256,
    )
    passage = slice(0, min(settings.grid_tokens, plan.window - 1))
    grid = lens_grid(
        model,
        tokenizer,
        full,
        run.lens.params,
        {s: heldout.resid[s][passage] for s in sites},
        sites,
        run.heldout_windows[0, passage],
    )
    result["seconds"] |= {"load": load_seconds, "transfer_and_grid": time.perf_counter() - t0}
    result = {
        **result,
        "schema": LENS_LLM_SCHEMA,
        "settings": asdict(settings),
        "model": {
            "name": checkpoint.get("metadata", {}).get("name", Path(checkpoint["path"]).stem),
            "checkpoint": checkpoint,
            "config": asdict(model.config),
            "heldout": result["tuned"].pop("model"),
        },
        "text": {
            "path": str(text_path),
            "mode": mode,
            "train_tokens": result["training"]["tokens"],
            "heldout_tokens": result["heldout"]["tokens"],
            "heldout_rows": result["heldout"]["rows"],
            "heldout_bytes": result["heldout"]["bytes"],
            "train_vocab": result["training"]["readout_vocab"],
        },
        "transfer": {
            "sites": [sites[i] for i in picked],
            "layers": picked,
            **{k: np.asarray(v).tolist() for k, v in transfer.items() if k != "raw"},
        },
        "grid": grid,
    }
    result["logit"].pop("model", None)
    write_lens_llm_outputs(out_dir, result)
    return result
