"""Lenses on a pretrained LLM over real text: logit, tuned and shared lenses, transfer matrix, per-layer
KL / cross-entropy / entropy on held-out text, and a logit-lens grid of one passage, into a run directory.

Rows of the training text train the translators; rows of the held-out text (the end of the file) measure
every lens. Training reads out only the `train_vocab` tokens the model finds most probable on the training
rows (softmax renormalised over them), because the full 49k-token readout of every site at every step
does not fit a 10-minute budget on 2 cores; every reported number uses the full vocabulary.
"""

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from models.config import ConfigError
from hmm.errors import MissingFileError


@dataclass(frozen=True)
class LensLLMSettings:
    """What `belieflab lens-llm` runs (validated before any model is loaded)."""

    model: str = "smollm2-135m"
    text: str | None = None          # None: the installed corpus
    tokens: int = 4096               # training tokens
    heldout_tokens: int = 1024
    window: int = 256
    heldout_fraction: float = 0.25
    train_vocab: int = 1024
    steps: int = 100
    batch_size: int = 128
    transfer_every: int = 5          # transfer matrix over every k-th site (and the last)
    grid_tokens: int = 12
    seed: int = 0

    def __post_init__(self):
        for name, low in (("tokens", 2), ("heldout_tokens", 2), ("window", 2), ("train_vocab", 2), ("steps", 1),
                          ("batch_size", 1), ("transfer_every", 1), ("grid_tokens", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"lens-llm --{name.replace('_', '-')}={value!r} is invalid: an integer >= {low}")
        if self.window > min(self.tokens, self.heldout_tokens):
            raise ConfigError(f"lens-llm --window={self.window} is invalid: at most --tokens and --heldout-tokens")
        if not 0 < self.heldout_fraction < 1:
            raise ConfigError(f"lens-llm --heldout-fraction={self.heldout_fraction} is invalid: in (0, 1)")


def _top_vocabulary(model, final_NxD, next_ids_N, size: int, batch: int = 512) -> np.ndarray:
    """The `size` tokens with the most model probability over the rows, observed next tokens first."""
    import jax

    mass_V = np.zeros(model.config.vocab_size)
    for start in range(0, len(final_NxD), batch):
        mass_V += np.asarray(jax.nn.softmax(model.logits_from_residual(final_NxD[start:start + batch]), -1)).sum(0)
    mass_V[np.unique(next_ids_N)] += len(final_NxD)
    return np.sort(np.argsort(-mass_V)[:size]).astype(np.int32)


def lens_grid(model, tokenizer, readout, params, resid_rows: dict, sites, tokens_P) -> dict:
    """Top-1 token (decoded) and its probability of the logit and tuned lenses at each site and position."""
    import jax
    import jax.numpy as jnp

    from analysis.lenses import logit_lens_logits

    out = {"tokens": [tokenizer.decode([int(t)]) for t in tokens_P], "sites": list(sites)}
    for name, A, b in (("logit", None, None), ("tuned", params["A"], params["b"])):
        top, prob = [], []
        for i, site in enumerate(sites):
            h = jnp.asarray(resid_rows[site])
            if A is not None:
                h = h + h @ A[i] + b[i]
            p = jax.nn.softmax(logit_lens_logits(readout, h), -1)
            top.append([tokenizer.decode([int(t)]) for t in np.asarray(p.argmax(-1))])
            prob.append(np.asarray(p.max(-1)).tolist())
        out[name] = {"top1": top, "prob": prob}
    return out


def run_lens_llm(settings: LensLLMSettings, out_dir: Path, progress: bool = True) -> dict:
    """Everything `belieflab lens-llm` does; returns the dict written to `lenses.json`."""
    from tqdm.auto import tqdm

    from analysis.lenses import (LensInputs, Readout, Recipe, fit_shared_lens, fit_tuned_lens, logit_lens,
                                 tuned_transfer)
    from experiments.llm.corpus import corpus_path, split_text
    from experiments.llm.report import write_lens_llm_outputs
    from experiments.llm.text import lens_sites, residual_rows, token_windows
    from models.pretrained import PretrainedError, load_pretrained

    seconds, t0 = {}, time.perf_counter()
    text_path = Path(settings.text) if settings.text else corpus_path()
    if not text_path.is_file():
        raise MissingFileError(f"lens-llm --text {text_path}: no such file")
    try:
        text = text_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"lens-llm --text {text_path}: not UTF-8 text") from None
    train_text, heldout_text = split_text(text, settings.heldout_fraction)
    model, tokenizer = load_pretrained(settings.model)
    if tokenizer is None:
        raise PretrainedError(f"lens-llm --model {settings.model}: the checkpoint has no tokenizer.json")
    seconds["load"] = time.perf_counter() - t0
    train_W = token_windows(tokenizer, train_text, settings.window, settings.tokens)
    heldout_W = token_windows(tokenizer, heldout_text, settings.window, settings.heldout_tokens)
    sites = lens_sites(model.config.n_layers)
    t0 = time.perf_counter()
    bar = tqdm(total=len(train_W) + len(heldout_W), desc="residuals", unit="window", disable=not progress)
    train_resid, train_next = residual_rows(model, train_W, sites, progress=bar)
    heldout_resid, heldout_next = residual_rows(model, heldout_W, sites, progress=bar)
    bar.close()
    seconds["forward"] = time.perf_counter() - t0
    n_train, n_heldout = len(train_next), len(heldout_next)
    inputs = LensInputs(resid={s: np.concatenate([train_resid[s], heldout_resid[s]]) for s in sites},
                        weights_N=np.ones(n_train + n_heldout), next_ids_N=np.concatenate([train_next, heldout_next]))
    del train_resid, heldout_resid
    train_rows, heldout_rows = np.arange(n_train), np.arange(n_train, n_train + n_heldout)

    t0 = time.perf_counter()
    vocab = _top_vocabulary(model, inputs.resid[sites[-1]][train_rows], train_next, settings.train_vocab)
    full = Readout.from_model(model)
    train_readout = Readout.from_function(lambda h: model.logits_from_residual(h, vocab))
    recipe = Recipe(steps=settings.steps, batch_size=settings.batch_size, eval_batch_size=256, seed=settings.seed,
                    sites_per_program=8)
    tuned = fit_tuned_lens(train_readout, inputs, train_rows, sites, recipe, progress)
    shared = fit_shared_lens(train_readout, inputs, train_rows, sites[:-1], recipe)
    seconds["fit"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    logit_metrics, model_metrics = logit_lens(full, inputs, heldout_rows, sites, recipe.eval_batch_size)
    tuned_metrics = tuned.metrics(full, inputs, heldout_rows, recipe.eval_batch_size)[0]
    shared_metrics = shared.metrics(full, inputs, heldout_rows, recipe.eval_batch_size)[0]
    picked = sorted(set(range(0, len(sites), settings.transfer_every)) | {len(sites) - 1})
    transfer = tuned_transfer(full, inputs, heldout_rows, [sites[i] for i in picked],
                              {k: np.asarray(v)[picked] for k, v in tuned.params.items()}, recipe.eval_batch_size)
    seconds["evaluate"] = time.perf_counter() - t0

    passage = slice(n_train, n_train + min(settings.grid_tokens, settings.window - 1))
    grid = lens_grid(model, tokenizer, full, tuned.params, {s: inputs.resid[s][passage] for s in sites}, sites,
                     heldout_W[0, :passage.stop - passage.start])
    as_lists = lambda d: {k: np.asarray(v).tolist() for k, v in d.items()}  # noqa: E731
    result = {
        "schema": "belieflab.lens_llm/1", "units": "nats", "settings": asdict(settings),
        "model": {"name": settings.model, "config": asdict(model.config), "heldout": as_lists(model_metrics)},
        "text": {"path": str(text_path), "train_tokens": int(train_W.size), "heldout_tokens": int(heldout_W.size),
                 "train_rows": n_train, "heldout_rows": n_heldout, "train_vocab": int(len(vocab))},
        "sites": list(sites), "layers": list(range(len(sites))),
        "logit": as_lists(logit_metrics), "tuned": as_lists(tuned_metrics), "shared": as_lists(shared_metrics),
        "tuned_train_loss": {"first": np.asarray(tuned.losses)[:, 0].tolist(),
                             "last": np.asarray(tuned.losses)[:, -1].tolist()},
        "transfer": {"sites": [sites[i] for i in picked], "layers": picked,
                     **{k: np.asarray(v).tolist() for k, v in transfer.items() if k != "raw"}},
        "grid": grid, "seconds": seconds,
    }
    write_lens_llm_outputs(out_dir, result)
    return result
