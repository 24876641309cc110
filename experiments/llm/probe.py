"""`belieflab probe-llm`: a pretrained LLM fed sequences of a hidden-Markov process rendered as text, asked the
lab's questions: how close its in-context prediction comes to Bayes (beside n-gram estimators), which residual
sites hold the exact belief (sequence-grouped CV, shuffle nulls, token-history baselines, the prediction-only
ceiling, a weight-permuted control), and how lenses read out the Bayes prediction layer by layer.

Every input is validated before the model is loaded, except what needs the model's own tokenizer and context
(the symbols' single-token check and the rendered length), which is checked right after loading, before any
forward pass.
"""

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from models.config import ConfigError

SITE_CHOICES = ("layers", "all")
DEFAULT_STEERING_PAIRS = 16
ENTROPY_RATE_DEPTH = 10  # Mess3: h(10) and h(12) agree to 2e-6 nats; deeper trees cost seconds


@dataclass(frozen=True)
class ProbeSettings:
    """What `belieflab probe-llm` runs. The default (32 sequences x 256 symbols, 31 layer sites) is sized for
    2 CPU cores; raise `sequences` and use `sites="all"` on an accelerator."""

    model: str = "smollm2-135m"
    process: str = "mess3"
    params: dict = field(default_factory=dict)
    sequences: int = 32
    length: int = 256
    symbols: tuple | None = None  # None: " A", " B", ... (one per process token)
    separator: str = ""
    sites: str = "layers"  # "layers": each block's input and the final residual; "all": every residual site
    folds: int = 5
    shuffles: int = 100
    cv_shuffles: int = 20
    history_k: int = 5  # a belief that mostly follows the last few tokens (Mess3) needs k >= 4 for a fair baseline
    ngram_orders: tuple = (1, 2, 3)
    alpha: float = 0.5
    tuned_steps: int = 100
    batch_size: int = 4
    seed: int = 0
    patching: bool = False  # activation patching between sequences of different last belief, per layer
    steering: bool = False  # belief steering at the last symbol, per layer, with random-direction controls
    steering_pairs: int | None = None  # sequences steered (None: 16, or all if fewer), each toward the farthest belief

    def __post_init__(self):
        for name, low in (
            ("sequences", 2),
            ("length", 2),
            ("folds", 2),
            ("shuffles", 0),
            ("cv_shuffles", 0),
            ("history_k", 1),
            ("tuned_steps", 0),
            ("batch_size", 1),
            ("seed", 0),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"probe-llm --{name.replace('_', '-')}={value!r} is invalid: an integer >= {low}")
        if self.folds > self.sequences:
            raise ConfigError(
                f"probe-llm --folds={self.folds} is invalid: at most --sequences={self.sequences} "
                "(each fold holds out whole sequences)"
            )
        if self.sites not in SITE_CHOICES:
            raise ConfigError(f"probe-llm --sites={self.sites!r} is invalid: one of {list(SITE_CHOICES)}")
        if not (isinstance(self.alpha, (int, float)) and self.alpha > 0):
            raise ConfigError(f"probe-llm --alpha={self.alpha!r} is invalid: a pseudo-count > 0")
        if not self.ngram_orders or any(
            isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in self.ngram_orders
        ):
            raise ConfigError(f"probe-llm --ngram-orders={self.ngram_orders!r} is invalid: integers >= 1")
        if self.symbols is not None and (
            isinstance(self.symbols, str) or not all(isinstance(s, str) and s for s in self.symbols)
        ):
            raise ConfigError(f"probe-llm --symbols={self.symbols!r} is invalid: a list of non-empty strings")
        for name in ("patching", "steering"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"probe-llm --{name}={getattr(self, name)!r} is invalid: true or false")
        if self.steering_pairs is not None and (
            isinstance(self.steering_pairs, bool) or not isinstance(self.steering_pairs, int) or self.steering_pairs < 1
        ):
            raise ConfigError(f"probe-llm --steering-pairs={self.steering_pairs!r} is invalid: an integer >= 1")
        if self.steering_pairs is not None and not self.steering:
            raise ConfigError(f"probe-llm --steering-pairs={self.steering_pairs} is invalid without --steering")
        if (self.steering_pairs or 0) > self.sequences:
            raise ConfigError(
                f"probe-llm --steering-pairs={self.steering_pairs} is invalid: at most --sequences={self.sequences}"
            )
        if not isinstance(self.separator, str):
            raise ConfigError(f"probe-llm --separator={self.separator!r} is invalid: a string")


def _check_before_loading(settings: ProbeSettings):
    from analysis.llm_beliefs.symbols import SymbolError
    from experiments.config.experiment import ProcessConfig, resolve_process
    from models.pretrained import resolve_model_path

    process = resolve_process(ProcessConfig(settings.process, dict(settings.params)))
    if settings.symbols is not None and len(settings.symbols) != process.vocab_size:
        raise SymbolError(
            f"probe-llm --symbols={list(settings.symbols)!r} is invalid: the process has "
            f"{process.vocab_size} tokens, so give exactly {process.vocab_size} symbols"
        )
    if settings.symbols is None and process.vocab_size > 26:
        raise SymbolError(
            f"probe-llm --symbols: the process has {process.vocab_size} tokens, more than the 26 "
            "default symbols; give one symbol per token"
        )
    return process, resolve_model_path(settings.model)


def _regress_sites(resid: dict, y, fold_N, positions, settings, nulls: bool, component=None) -> dict:
    """Per site: the belief fit (with nulls if asked, and per position bucket) and, for a mixture, the fit onto
    the component posterior (`component`, rows x M)."""
    from analysis.llm_beliefs.regression import bucket_regressions, position_buckets, site_regression

    buckets = position_buckets(settings.length)
    out = {}
    for site, acts in resid.items():
        fit = site_regression(
            acts, y, fold_N, settings.shuffles if nulls else 0, settings.cv_shuffles if nulls else 0, settings.seed
        )
        fit["buckets"] = bucket_regressions(acts, y, fold_N, positions, buckets)
        if component is not None:
            comp = site_regression(acts, component, fold_N)
            fit["component"] = {"r2": comp["metrics"]["r2"], "cv_r2": comp["cv"]["r2"]}
        out[site] = fit
    return out


def _in_context(seqs, log_q, log_q_permuted, log_mass, settings, process) -> dict:
    import hmm
    from analysis.llm_beliefs.in_context import estimator_curves, kl_curve

    curves = {
        "model": kl_curve(seqs.bayes_NxTxV, np.exp(log_q)),
        "permuted": kl_curve(seqs.bayes_NxTxV, np.exp(log_q_permuted)),
        **estimator_curves(
            seqs.tokens_NxT, seqs.bayes_NxTxV, process.vocab_size, settings.ngram_orders, settings.alpha
        ),
    }
    bayes_entropy = -np.sum(seqs.bayes_NxTxV * np.log(np.maximum(seqs.bayes_NxTxV, 1e-300)), -1).mean(0)
    tail = slice(-max(1, settings.length // 4), None)
    return {
        "kl_to_bayes": {k: v.tolist() for k, v in curves.items()},
        "kl_last": {k: float(v[-1]) for k, v in curves.items()},
        "kl_last_quarter": {k: float(v[tail].mean()) for k, v in curves.items()},
        "symbol_mass": np.exp(log_mass).mean(0).tolist(),
        "symbol_mass_mean": float(np.exp(log_mass).mean()),
        "bayes_entropy": bayes_entropy.tolist(),
        "entropy_rate": hmm.entropy_rate(process, max_len=ENTROPY_RATE_DEPTH),
        "entropy_rate_note": f"hmm.entropy_rate: exact for a finite presentation, else the block-entropy "
        f"bound h({ENTROPY_RATE_DEPTH}) (an upper bound)",
        "alpha": settings.alpha,
    }


def _summary(regression: dict, permuted: dict, baselines: dict, in_context: dict) -> dict:
    cv = {site: fit["cv"]["r2"] for site, fit in regression.items()}
    best = max(cv, key=cv.get)
    best_permuted = max(permuted, key=lambda s: permuted[s]["cv"]["r2"])
    history = baselines["token_history"]
    extra = {}
    if "component" in regression[best]:
        comp = {site: fit["component"]["cv_r2"] for site, fit in regression.items()}
        top = max(comp, key=comp.get)
        extra = {
            "component_best_site": top,
            "component_best_cv_r2": comp[top],
            "component_permuted_same_site_cv_r2": permuted[top]["component"]["cv_r2"],
        }
    return extra | {
        "best_site": best,
        "best_cv_r2": cv[best],
        "best_r2": regression[best]["metrics"]["r2"],
        "best_cv_shuffle_q99": (regression[best].get("cv_shuffle") or {}).get("q99"),
        "permuted_same_site_cv_r2": permuted[best]["cv"]["r2"] if best in permuted else None,
        "permuted_best_site": best_permuted,
        "permuted_best_cv_r2": permuted[best_permuted]["cv"]["r2"],
        "history_linear_cv_r2": history["linear"][-1]["cv_r2"],
        "history_lookup_cv_r2": history["lookup"][-1]["cv_r2"],
        "model_prediction_cv_r2": baselines["model_prediction"]["cv_r2"],
        "kl_last": in_context["kl_last"],
        "kl_last_quarter": in_context["kl_last_quarter"],
    }


def run_probe(settings: ProbeSettings, out_dir: Path, progress: bool = True, command: str | None = None) -> dict:
    """Everything `belieflab probe-llm` does; returns the dict written to `analysis.json` (`command`: the command
    line that reruns it, recorded there with the environment and the wall time)."""
    from tqdm.auto import tqdm

    from analysis.ladder.reproducibility import environment, load_average
    from analysis.llm_beliefs import (
        ceiling,
        lenses_against_bayes,
        model_prediction_baseline,
        permuted_weights,
        read_model,
        sample_sequences,
        symbol_map,
        token_history,
    )
    from analysis.llm_beliefs.regression import sequence_folds
    from experiments.llm.probe_report import write_probe_figures, write_probe_outputs
    from models.pretrained import PretrainedError, load_pretrained

    seconds, t0 = {}, time.perf_counter()
    start, env = t0, environment()
    from analysis.lenses.text_rows import block_input_sites
    from models.pretrained.describe import describe_checkpoint

    process, model_path = _check_before_loading(settings)
    seqs = sample_sequences(process, settings.sequences, settings.length, settings.seed)
    model, tokenizer = load_pretrained(model_path)
    if tokenizer is None:
        raise PretrainedError(f"probe-llm --model {settings.model}: the checkpoint has no tokenizer")
    symbols = symbol_map(tokenizer, process.vocab_size, settings.symbols, settings.separator)
    rendered = settings.length * symbols.stride
    if rendered > model.config.n_ctx:
        raise ConfigError(
            f"probe-llm --length={settings.length} is invalid: {rendered} model tokens exceed the "
            f"model's context of {model.config.n_ctx}"
        )
    seconds["load"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    ids = symbols.render(seqs.tokens_NxT)
    positions = symbols.readout_positions(settings.length)
    lens = block_input_sites(model.config.n_layers)  # layer l = the residual entering block l; the last: the output
    sites = lens if settings.sites == "layers" else tuple(model.residual_sites())
    bar = tqdm(total=2 * settings.sequences, desc="forward", unit="seq", disable=not progress)
    trained = read_model(
        model, ids, positions, symbols.ids, tuple(dict.fromkeys(sites + lens)), settings.batch_size, bar
    )
    control = permuted_weights(model, settings.seed)
    permuted = read_model(control, ids, positions, symbols.ids, sites, settings.batch_size, bar)
    bar.close()
    seconds["forward"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    in_context = _in_context(seqs, trained.log_q_NxTxV, permuted.log_q_NxTxV, trained.log_mass_NxT, settings, process)
    fold_N = sequence_folds(seqs.sequence_of_row(), settings.folds, settings.seed)
    y, row_position = seqs.rows(seqs.beliefs_NxTxS), seqs.position_of_row()
    component = None if seqs.component_posterior() is None else seqs.rows(seqs.component_posterior())
    regression = _regress_sites(
        {s: trained.resid[s] for s in sites}, y, fold_N, row_position, settings, True, component
    )
    regression_permuted = _regress_sites(permuted.resid, y, fold_N, row_position, settings, False, component)
    del permuted
    seconds["regression"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    baselines = {
        "token_history": token_history(seqs, fold_N, settings.history_k),
        "prediction_ceiling": ceiling(seqs, fold_N),
        "model_prediction": model_prediction_baseline(seqs, np.exp(trained.log_q_NxTxV), fold_N),
    }
    seconds["baselines"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    lenses = lenses_against_bayes(
        model,
        symbols.ids,
        {s: trained.resid[s] for s in lens},
        seqs.rows(seqs.bayes_NxTxV),
        np.flatnonzero(fold_N == 0),
        settings.tuned_steps,
        settings.seed,
    )
    lenses["layers"] = list(range(len(lens)))
    seconds["lenses"] = time.perf_counter() - t0

    patching = None
    if settings.patching:
        from analysis.llm_beliefs.patching import patch_sites

        t0 = time.perf_counter()
        patching = patch_sites(
            model,
            ids,
            int(positions[-1]),
            symbols.ids,
            lens,
            seqs.bayes_NxTxV[:, -1],
            seqs.beliefs_NxTxS[:, -1],
            settings.batch_size,
        )
        patching["layers"] = list(range(len(lens)))
        seconds["patching"] = time.perf_counter() - t0

    steering = None
    if settings.steering:
        t0 = time.perf_counter()
        steering = _steering(
            model, ids, int(positions[-1]), symbols.ids, lens, trained, regression, seqs, fold_N, settings
        )
        seconds["steering"] = time.perf_counter() - t0

    predictions = {"trained": regression, "permuted": regression_permuted}
    result = {
        "schema": "belieflab.probe_llm/1",
        "units": "nats",
        "settings": {**asdict(settings), "symbols": list(symbols.symbols)},
        "model": {
            "name": settings.model,
            "checkpoint": {
                **describe_checkpoint(model_path),
                "weights_in_this_analysis": "dequantised to float32 on load",
            },
            "config": asdict(model.config),
        },
        "process": {
            "name": process.name,
            "params": process.param_dict,
            "vocab_size": process.vocab_size,
            "num_states": process.num_states,
            "components": list(process.component_sizes),
        },
        "symbols": {
            "symbols": list(symbols.symbols),
            "ids": symbols.ids.tolist(),
            "separator": symbols.separator,
            "separator_ids": symbols.separator_ids.tolist(),
            "model_tokens_per_sequence": rendered,
        },
        "sequences": {
            "count": settings.sequences,
            "length": settings.length,
            "rows": int(len(y)),
            "folds": settings.folds,
            "weights": "uniform over (sequence, position) rows",
        },
        "in_context": in_context,
        "regression": {
            "sites": list(sites),
            "target": "belief",
            "extra_target": None if component is None else "component posterior (mixture)",
            "trained": {s: _plain_fit(f) for s, f in regression.items()},
            "permuted": {s: _plain_fit(f) for s, f in regression_permuted.items()},
        },
        "baselines": baselines,
        "lenses": lenses,
        **({} if patching is None else {"patching": patching}),
        **({} if steering is None else {"steering": steering}),
    }
    result["summary"] = _summary(regression, regression_permuted, baselines, in_context)
    t0 = time.perf_counter()
    write_probe_figures(out_dir, result, seqs, predictions)
    seconds["figures"] = time.perf_counter() - t0
    result["seconds"] = seconds
    result["command"] = command
    result["environment"] = env | {"load_average_1min_end": load_average()}
    result["wall_seconds"] = time.perf_counter() - start
    write_probe_outputs(out_dir, result)
    return result


def _steering(model, ids, position: int, symbol_ids, sites, trained, regression: dict, seqs, fold_N, settings):
    """Belief steering at `position` at every site of `sites`, with decoders cross-fitted over the probe's folds;
    `kl_target_reachable`: the targets' own runs' mean KL(Bayes_target ‖ model), what perfect steering would give."""
    from analysis.llm_beliefs.in_context import kl_rows
    from analysis.llm_beliefs.regression import site_regression
    from analysis.llm_beliefs.steering import fold_decoders, steer_sites
    from models.keys import numpy_rng

    y, resid = seqs.rows(seqs.beliefs_NxTxS), trained.resid
    decoders = {}
    for site in sites:
        fit = regression.get(site) or site_regression(resid[site], y, fold_N)
        decoders[site] = fold_decoders(resid[site], y, fold_N, fit["fold_fits"], fit["cv"]["r2"])
    out = steer_sites(
        model,
        ids,
        position,
        symbol_ids,
        sites,
        decoders,
        fold_N.reshape(seqs.shape)[:, 0],
        seqs.beliefs_NxTxS[:, -1],
        seqs.bayes_NxTxV[:, -1],
        numpy_rng(settings.seed, "llm_steering"),
        sources=np.arange(settings.steering_pairs or min(DEFAULT_STEERING_PAIRS, settings.sequences)),
        batch_size=settings.batch_size,
    )
    b = np.asarray(out["targets"])
    reachable = kl_rows(seqs.bayes_NxTxV[b, -1], np.exp(trained.log_q_NxTxV[b, -1])).mean()
    return out | {
        "layers": list(range(len(sites))),
        "position": position,
        "decoders": "cross-fitted over folds",
        "kl_target_reachable": float(reachable),
    }


def _plain_fit(fit: dict) -> dict:
    return {k: v for k, v in fit.items() if k not in ("heldout_NxC", "fold_fits")}
