"""`analyze`: does a model's residual stream linearly hold the belief state, at which site, against controls."""

import time
from dataclasses import dataclass, field
from pathlib import Path

from flax import nnx

import hmm
from analysis.atomic import SCHEMA, write_json
from analysis.figures.geometry import belief_view, plot_site_geometry, prefix_view
from analysis.figures.labels import process_title
from analysis.figures.summary import plot_r2_by_site
from analysis.regression.activations import DEFAULT_BATCH, collect_activations, resolve_sites
from analysis.regression.fit import RCOND
from analysis.regression.measure import Settings, measure
from analysis.regression.nulls import DEFAULT_CV_PERMUTATIONS
from analysis.regression.prefixes import MAX_TREE_SEQUENCES, NUM_SAMPLES, PrefixSet, input_layout, prefix_set
from analysis.regression.site_table import site_table
from models.keys import jax_key

CONCAT = "concat"


def site_groups(sites, concat="all") -> dict:
    """`{name: (site, ...)}`: every site alone, plus concatenations. `concat`: `"all"` (one group named
    `concat` over all sites, if there are several), None, or a list of site lists (named `concat(a+b)`)."""
    groups = {site: (site,) for site in sites}
    if concat in (None, False) or (concat == "all" and len(sites) < 2):
        return groups
    if concat == "all":
        groups[CONCAT] = tuple(sites)
        return groups
    lists = [concat] if all(isinstance(s, str) for s in concat) else concat
    for members in lists:
        groups[f"{CONCAT}({'+'.join(members)})"] = tuple(members)
    return groups


def untrained_copy(model, seed: int = 0):
    """The same architecture at initialisation (parameters from the seed's `untrained` stream)."""
    config = getattr(model, "config", None)
    if config is None or not isinstance(model, nnx.Module):
        raise ValueError(
            "the untrained control needs an NNX model with a .config; pass untrained=False "
            "or an untrained model instance"
        )
    return type(model)(config, rngs=nnx.Rngs(params=jax_key(seed, "untrained")))


def _process_info(process: hmm.Process) -> dict:
    if not isinstance(process, hmm.Process):  # the Dirichlet Markov family: no finite states
        return {
            "name": process.name,
            "params": dict(vars(process)),
            "vocab_size": process.vocab_size,
            "num_states": None,
            "is_generalized": False,
        }
    return {
        "name": process.name,
        "params": process.param_dict,
        "vocab_size": process.vocab_size,
        "num_states": process.num_states,
        "is_generalized": process.is_generalized,
    }


@dataclass
class AnalysisResult:
    """Everything one `analyze` call measured; `to_dict()` is the `analysis.json` content."""

    process: hmm.Process
    prefixes: PrefixSet
    groups: dict  # name -> sites
    settings: Settings
    trained: dict  # name -> GroupResult
    untrained: dict | None
    model_config: dict | None = None
    tokens_seen: int | None = None
    figures: dict = field(default_factory=dict)  # name -> path relative to the output directory
    seconds: dict = field(default_factory=dict)
    activations: dict | None = field(default=None, repr=False)  # the trained model's, per site; never saved

    def headline(self, target: str = "belief") -> dict:
        """The single site with the highest R^2, with its controls (concatenations excluded)."""
        singles = [g for g, sites in self.groups.items() if len(sites) == 1] or list(self.groups)
        best = max(singles, key=lambda g: self.trained[g].targets[target].metrics["r2"])
        r = self.trained[best].targets[target]
        out = {
            "site": best,
            "target": target,
            "r2": r.metrics["r2"],
            "rmse": r.metrics["rmse"],
            "mse_unweighted": r.metrics["mse_unweighted"],
            "mse_paper": r.metrics["mse_paper"],
            "cv_r2": r.cv["r2"] if r.cv else None,
            "cv_null_mean": r.cv_null.summary()["mean"] if r.cv_null else None,
            "cv_null_q99": r.cv_null.summary()["q99"] if r.cv_null else None,
            "null_mean": r.null.summary()["mean"] if r.null else None,
            "null_q99": r.null.summary()["q99"] if r.null else None,
            "p_value": r.null.p_value if r.null else None,
            "untrained_r2": self.untrained[best].targets[target].metrics["r2"] if self.untrained else None,
        }
        return out

    def to_dict(self) -> dict:
        p = self.prefixes
        return {
            "schema": SCHEMA,
            "process": _process_info(self.process),
            "model": {"config": self.model_config, "tokens_seen": self.tokens_seen},
            "data": {
                "source": p.source,
                "context_length": p.context_length,
                "bos": p.bos,
                "num_prefixes": p.num_prefixes,
                "num_sequences": int(len(p.inputs_MxL)),
                "weighting": self.settings.weighting,
                "effective_sample_size": p.effective_sample_size(self.settings.weighting),
            },
            "settings": {
                "weighting": self.settings.weighting,
                "num_shuffles": self.settings.num_shuffles,
                "num_cv_shuffles": self.settings.num_cv_shuffles,
                "cv_folds": self.settings.cv_folds,
                "seed": self.settings.seed,
                "rcond": self.settings.rcond,
            },
            "groups": {g: list(s) for g, s in self.groups.items()},
            "targets": list(next(iter(self.trained.values())).targets),
            "headline": {t: self.headline(t) for t in next(iter(self.trained.values())).targets},
            "trained": {g: r.to_dict() for g, r in self.trained.items()},
            "untrained": None if self.untrained is None else {g: r.to_dict() for g, r in self.untrained.items()},
            "figures": dict(self.figures),
            "seconds": dict(self.seconds),
        }

    def table(self, target: str = "belief") -> str:
        """A plain-text table: one line per site or concatenation, with its controls."""
        return site_table(self.to_dict(), target)

    def save(self, out_dir, figures: bool = True) -> Path:
        """Write `figures/*.png` (if `figures`) and `analysis.json` under `out_dir`; returns the JSON path."""
        out_dir = Path(out_dir)
        if figures:
            start = time.perf_counter()
            self.figures.update(draw_figures(self, out_dir))
            self.seconds["figures"] = time.perf_counter() - start
        return write_json(out_dir / "analysis.json", self.to_dict())


def draw_figures(result: AnalysisResult, out_dir: Path) -> dict:
    """The standard figures of one analysis; returns `{name: path relative to out_dir}`."""
    p = result.prefixes
    finite = isinstance(result.process, hmm.Process)  # else the Dirichlet family: its state is the mean matrix
    view = prefix_view(p) if finite else belief_view(p.beliefs, p.probs, simplex=False)
    target = "belief" if finite else "transition"
    title = f"{process_title(result.process)}, {p.num_prefixes:,} prefixes ({p.source})"
    paths = {
        "geometry": plot_site_geometry(
            view,
            p.beliefs,
            result.trained,
            out_dir / "figures" / "geometry.png",
            title=f"model: {title}",
            target=target,
        )
    }
    if result.untrained is not None:
        paths["geometry_untrained"] = plot_site_geometry(
            view,
            p.beliefs,
            result.untrained,
            out_dir / "figures" / "geometry_untrained.png",
            title=f"untrained control (same architecture at init): {title}",
            target=target,
        )
    component = result.trained and next(iter(result.trained.values())).targets.get("component")
    if component is not None and component.predicted_NxC.shape[1] >= 3:  # a 1-simplex has no 2-D view
        truth_NxM = hmm.component_posterior(result.process, result.prefixes.beliefs)
        view = belief_view(truth_NxM, result.prefixes.probs, simplex=truth_NxM.shape[1] == 3, corner="component")
        paths["geometry_component"] = plot_site_geometry(
            view,
            truth_NxM,
            result.trained,
            out_dir / "figures" / "geometry_component.png",
            title=f"component posterior: {title}",
            target="component",
        )
    paths["r2_by_site"] = plot_r2_by_site(
        result.trained, result.untrained, out_dir / "figures" / "r2_by_site.png", title=title
    )
    return {name: str(Path(path).relative_to(out_dir)) for name, path in paths.items()}


def analyze(
    model,
    process: hmm.Process,
    *,
    sites="residual",
    concat="all",
    weighting: str = "prob",
    num_shuffles: int = 1000,
    num_cv_shuffles: int = DEFAULT_CV_PERMUTATIONS,
    cv_folds: int = 5,
    untrained=True,
    seed: int = 0,
    tree=None,
    max_sequences: int = MAX_TREE_SEQUENCES,
    num_samples: int = NUM_SAMPLES,
    batch_size: int = DEFAULT_BATCH,
    out_dir=None,
    figures: bool = True,
    tokens_seen: int | None = None,
    n_ctx: int | None = None,
    bos: bool | None = None,
    rcond: float = RCOND,
) -> AnalysisResult:
    """Regress each site's activations (and their concatenations) onto the belief state and the Bayes
    next-token distribution, with the shuffle null, k-fold CV (and its held-out shuffle null of
    `num_cv_shuffles` permutations) and the untrained control.

    Prefixes are the exact mixed-state tree's when at most `max_sequences` full-context sequences can exist,
    else `num_samples` sampled sequences de-duplicated by prefix. `untrained`: True (re-initialise the
    same architecture from `seed`), False, or a model to use as the control. With `out_dir`, writes
    `analysis.json` and (if `figures`) PNGs under `out_dir/figures`. `rcond`: see `Settings`.
    """
    start = time.perf_counter()
    seconds = {}
    settings = Settings(
        weighting=weighting,
        num_shuffles=num_shuffles,
        num_cv_shuffles=num_cv_shuffles,
        cv_folds=cv_folds,
        seed=seed,
        rcond=rcond,
    )
    prefixes = prefix_set(
        process,
        input_layout(model, n_ctx, bos),
        tree=tree,
        max_sequences=max_sequences,
        num_samples=num_samples,
        key=jax_key(seed, "samples"),
    )
    prefixes.weights(weighting)  # validates the weighting before any model runs
    groups = site_groups(resolve_sites(model, sites), concat)
    needed = tuple(dict.fromkeys(s for members in groups.values() for s in members))
    seconds["prefixes"] = time.perf_counter() - start

    def run(m, label):
        t0 = time.perf_counter()
        acts = collect_activations(m, prefixes, needed, batch_size)
        t1 = time.perf_counter()
        out = measure(acts, prefixes, groups, settings)
        seconds[f"{label}_activations"], seconds[f"{label}_regression"] = t1 - t0, time.perf_counter() - t1
        return out, acts

    trained, activations = run(model, "trained")
    control = None
    if untrained is not False:
        control, _ = run(untrained_copy(model, seed) if untrained is True else untrained, "untrained")
    config = getattr(model, "config", None)
    result = AnalysisResult(
        process=process,
        prefixes=prefixes,
        groups=groups,
        settings=settings,
        trained=trained,
        untrained=control,
        model_config=config.to_dict() if hasattr(config, "to_dict") else None,
        tokens_seen=tokens_seen,
        seconds=seconds,
        activations=activations,
    )
    seconds["analysis"] = time.perf_counter() - start
    if out_dir is not None:
        result.save(out_dir, figures=figures)
        seconds["total"] = time.perf_counter() - start
        write_json(Path(out_dir) / "analysis.json", result.to_dict())
    return result
