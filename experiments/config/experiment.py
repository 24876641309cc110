"""The experiment config tree: defaults in dataclasses, YAML files hold overrides, CLI `key.path=value`."""

from dataclasses import dataclass, field
from pathlib import Path

import yaml

import hmm
from analysis.regression.emergence import EMERGENCE_SHUFFLES
from analysis.regression.nulls import DEFAULT_CV_PERMUTATIONS, DEFAULT_PERMUTATIONS
from analysis.regression.prefixes import NUM_SAMPLES
from experiments.config.checks import check_experiment
from experiments.config.interventions import InterventionsConfig
from experiments.config.ladder import LadderConfig
from experiments.config.lens import LensConfig
from experiments.config.shipped import CONFIG_DIR, shipped_configs
from experiments.config.tree import build, merge, set_path, to_plain
from experiments.config.yaml_files import read_yaml, yaml_error_text
from hmm.spec import STRUCTURED
from models.config import ConfigError, ModelConfig, TrainConfig


@dataclass(frozen=True)
class ProcessConfig:
    """A registered process name (or a process file path) and its parameters.

    `name: mixture` draws one component per sequence: `components` lists them, each a mapping such as
    `{name: mess3, x: 0.05, alpha: 0.85}` (or with `params:`), and `weights` their prior (default uniform).
    `name: dirichlet_markov` (`params: {vocab_size, alpha}`) is the Dirichlet Markov family, a data source
    without finite states; `name: markov_chain` (`params: {matrix, first}`) one chain (`hmm.process_from_spec`).
    """

    name: str = "mess3"
    params: dict = field(default_factory=dict)
    components: tuple = ()
    weights: tuple = ()


SITE_SETS = ("residual", "resid_post")


@dataclass(frozen=True)
class AnalysisConfig:
    """What the belief regression measures, at the end of training and at every checkpoint.

    `sites`: "residual" (every distinct residual-stream state), "resid_post" (each block's output) or a
    list of site names. `concat`: "all" (also regress on all sites concatenated), "none", or a list of
    site lists. `emergence_sites` are regressed at every checkpoint (R^2 against tokens, fractal grid/GIF).
    `cv_shuffles`: permutations of the held-out null (k-fold R^2 of fits onto permuted targets).
    `rcond`: every fit drops the design directions whose singular value is below `rcond` x the largest
    (1e-6: plain least squares; larger values regularise wide designs such as RRXOR's concatenation).
    `num_samples`: sequences sampled for the regression when the exact tree is too large (or the process has no
    finite states); every prefix of each is a row.
    """

    sites: str | tuple = "residual"
    concat: str | tuple = "all"
    shuffles: int = DEFAULT_PERMUTATIONS
    cv_shuffles: int = DEFAULT_CV_PERMUTATIONS
    cv_folds: int = 5
    untrained_control: bool = True
    emergence: bool = True
    emergence_sites: str | tuple = "resid_post"
    emergence_shuffles: int = EMERGENCE_SHUFFLES
    rcond: float = 1e-6
    num_samples: int = NUM_SAMPLES

    def __post_init__(self):
        for name in ("sites", "emergence_sites"):
            value = getattr(self, name)
            if isinstance(value, str) and value not in SITE_SETS:
                raise ConfigError(
                    f"AnalysisConfig.{name}={value!r} is invalid: one of {list(SITE_SETS)} or a list of site names"
                )
        if isinstance(self.concat, str) and self.concat not in ("all", "none"):
            raise ConfigError(f"AnalysisConfig.concat={self.concat!r} is invalid: 'all', 'none' or a list")
        for name in ("shuffles", "cv_shuffles", "emergence_shuffles"):
            if getattr(self, name) < 0:
                raise ConfigError(f"AnalysisConfig.{name}={getattr(self, name)} is invalid: must be >= 0")
        if not 0.0 < self.rcond < 1.0:
            raise ConfigError(f"AnalysisConfig.rcond={self.rcond} is invalid: must be in (0, 1)")
        if self.num_samples < 1:
            raise ConfigError(f"AnalysisConfig.num_samples={self.num_samples} is invalid: must be >= 1")
        if self.cv_folds < 2:
            raise ConfigError(f"AnalysisConfig.cv_folds={self.cv_folds} is invalid: must be >= 2")


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything one run needs; `output_dir/name` is its run directory."""

    name: str = "experiment"
    process: ProcessConfig = field(default_factory=ProcessConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    interventions: InterventionsConfig = field(default_factory=InterventionsConfig)
    ladder: LadderConfig = field(default_factory=LadderConfig)
    lens: LensConfig = field(default_factory=LensConfig)
    output_dir: str = "runs"

    @property
    def run_dir(self) -> Path:
        return Path(self.output_dir) / self.name

    def to_dict(self) -> dict:
        return to_plain(self)


def _read_yaml(path_or_name: str, seen: tuple = ()) -> dict:
    """Read a config file (by path or shipped name), following `base:` to the config it overrides."""
    path = Path(path_or_name)
    if not path.is_file():
        path = CONFIG_DIR / f"{path_or_name}.yaml"
        if not path.is_file():
            raise ConfigError(
                f"no config file or shipped config named {path_or_name!r}; shipped: {', '.join(shipped_configs())}"
            )
    if path.resolve() in seen:
        raise ConfigError(f"config {path} inherits from itself through 'base'")
    data = read_yaml(path) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a mapping of sections")
    base = data.pop("base", None)
    data.setdefault("name", path.stem)
    return merge_overrides(_read_yaml(base, seen + (path.resolve(),)), data) if base else data


def merge_overrides(values: dict, update: dict) -> dict:
    """Apply overrides; naming a different process drops the old process's parameters."""
    new_process = (update.get("process") or {}).get("name")
    old_process = values.get("process") or {}
    if new_process and new_process != old_process.get("name"):
        values = {
            **values,
            "process": {k: v for k, v in old_process.items() if k not in ("params", "components", "weights")},
        }
    return merge(values, update)


def parse_overrides(overrides) -> dict:
    """`["train.learning_rate=1e-3", "model.n_layers=2"]` -> nested dict; values parsed as YAML."""
    tree = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} must look like section.field=value")
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError as err:
            raise ConfigError(f"override {item!r}: {yaml_error_text('the value', err)}") from None
        set_path(tree, key.strip(), parsed)
    return tree


RENAMED_SECTIONS = {"baselines": "ladder"}  # old name -> new name, accepted for one release


def _renamed_sections(values: dict) -> dict:
    """`values` with sections under their old names (a config or run directory from before) moved to the new."""
    values = dict(values)
    for old, new in RENAMED_SECTIONS.items():
        if old in values:
            values[new] = merge(values.pop(old) or {}, values.get(new) or {})
    return values


def from_dict(values: dict) -> ExperimentConfig:
    """Validate a (possibly partial) config dict against the defaults."""
    config = build(ExperimentConfig, _renamed_sections(values), "config")
    try:
        process = resolve_process(config.process)
    except hmm.ProcessError as err:  # a mixture's errors already name their path under process
        message = str(err)
        raise ConfigError(
            f"config.{message}" if message.startswith("process.") else f"config.process: {message}"
        ) from None
    config = config.__class__(**{**config.__dict__, "model": config.model.for_vocab(process.vocab_size)})
    check_experiment(config)
    config.interventions.check_against(config.model.n_layers, process)
    return config


def load_config(path_or_name, overrides=()) -> ExperimentConfig:
    """Load a YAML config (a path or a shipped name) and apply `key.path=value` overrides."""
    update = parse_overrides(overrides)
    return from_dict(merge_overrides(_checkpoints_within(_read_yaml(str(path_or_name)), update), update))


def _checkpoints_within(values: dict, update: dict) -> dict:
    """`values` without the inherited `train.checkpoint_steps` past an overridden `train.num_steps` (a shorter
    run keeps the early snapshots it reaches); steps given in `update` itself are validated as they are."""
    train, new_train = values.get("train") or {}, update.get("train") or {}
    num_steps, steps = new_train.get("num_steps"), train.get("checkpoint_steps")
    if not isinstance(num_steps, int) or "checkpoint_steps" in new_train or not isinstance(steps, (list, tuple)):
        return values
    kept = [s for s in steps if not isinstance(s, (int, float)) or s <= num_steps]
    return {**values, "train": {**train, "checkpoint_steps": kept}}


def resolve_process(process_config: ProcessConfig) -> "hmm.Process | hmm.DirichletMarkov":
    """The process a config names: a registered name with parameters, a mixture of them, a process file, or
    the Dirichlet Markov family (`hmm.DirichletMarkov`, which training samples from directly)."""
    name = process_config.name
    if name == "mixture" or process_config.components or process_config.weights:
        if name != "mixture":
            raise hmm.ProcessError(f"process.components and process.weights apply to name: mixture, not {name!r}")
        spec = {"name": name, "params": process_config.params}
        for key in ("components", "weights"):
            if getattr(process_config, key):
                spec[key] = list(getattr(process_config, key))
        return hmm.process_from_spec(spec, path="process")
    if name in STRUCTURED:  # dirichlet_markov (a data source without finite states), markov_chain
        return hmm.process_from_spec({"name": name, "params": process_config.params}, path="process")
    if Path(name).suffix.lower() in (".yaml", ".yml", ".json", ".npz") or Path(name).is_file():
        if process_config.params:
            raise hmm.ProcessError("parameters apply to named processes, not to process files")
        return hmm.load_process(name)
    return hmm.get_process(name, **process_config.params)


def save_config(config: ExperimentConfig, path: Path) -> None:
    """Write the resolved config as YAML (atomically)."""
    from analysis.atomic import atomic_write_text

    atomic_write_text(path, yaml.safe_dump(config.to_dict(), sort_keys=False))
