"""Validated configs: `ModelConfig` (architecture) and `TrainConfig` (optimiser, schedule, data, bookkeeping)."""

import dataclasses
from dataclasses import dataclass, field

from hmm.errors import LabError


class ConfigError(LabError, ValueError):
    """A config value is out of range; the message names the field, the value and what is allowed."""


ACTIVATIONS = ("relu", "gelu", "gelu_tanh")
NORMALIZATIONS = ("layernorm", "none")
OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "warmup", "cosine", "linear")


def _fail(owner: str, name: str, value, allowed: str):
    raise ConfigError(f"{owner}.{name}={value!r} is invalid: {allowed}")


def _check_int(owner, name, value, low, high=None):
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        rng = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"
        _fail(owner, name, value, f"must be {rng}")


def _check_float(owner, name, value, low, high=None, low_open=False):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = ok and (value > low if low_open else value >= low) and (high is None or value <= high)
    if not ok:
        bound = f"> {low}" if low_open else f">= {low}"
        _fail(owner, name, value, f"must be a number {bound}" + ("" if high is None else f" and <= {high}"))


def _check_choice(owner, name, value, choices):
    if value not in choices:
        _fail(owner, name, value, f"must be one of {list(choices)}")


class _Serialisable:
    """`to_dict` / `from_dict` round trip through plain JSON types; unknown keys are an error."""

    def to_dict(self) -> dict:
        return {
            f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in dataclasses.fields(self)
        }

    @classmethod
    def from_dict(cls, d: dict):
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"{cls.__name__} has no field(s) {unknown}; fields are {sorted(names)}")
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items()})

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class ModelConfig(_Serialisable):
    """GPT-style decoder. Defaults are the belief-geometry paper's Mess3 model.

    `vocab_size` is the process's vocabulary (None: taken from the process at training time).
    With `bos`, token id `vocab_size` is a beginning-of-sequence marker: the embedding has
    `vocab_size + 1` rows while the unembedding still predicts `vocab_size` tokens.
    """

    vocab_size: int | None = None
    n_layers: int = 4
    d_model: int = 64
    n_heads: int = 1
    d_head: int = 8
    d_mlp: int = 256
    n_ctx: int = 10
    act_fn: str = "relu"
    normalization: str = "layernorm"
    ln_eps: float = 1e-5
    bos: bool = False
    init_scale: float = 0.8  # weights ~ N(0, (init_scale / sqrt(d_model))^2), biases zero

    def __post_init__(self):
        own = "ModelConfig"
        if self.vocab_size is not None:
            _check_int(own, "vocab_size", self.vocab_size, 1)
        for name in ("n_layers", "d_model", "n_heads", "d_head", "d_mlp", "n_ctx"):
            _check_int(own, name, getattr(self, name), 1)
        if self.normalization is None:
            object.__setattr__(self, "normalization", "none")
        _check_choice(own, "act_fn", self.act_fn, ACTIVATIONS)
        _check_choice(own, "normalization", self.normalization, NORMALIZATIONS)
        _check_float(own, "ln_eps", self.ln_eps, 0.0, low_open=True)
        _check_float(own, "init_scale", self.init_scale, 0.0, low_open=True)
        if not isinstance(self.bos, bool):
            _fail(own, "bos", self.bos, "must be true or false")
        if self.bos and self.n_ctx < 2:
            _fail(own, "n_ctx", self.n_ctx, "must be >= 2 with bos=True (position 0 holds the BOS token)")

    @property
    def input_vocab_size(self) -> int:
        """Rows of the embedding: the process's tokens plus BOS if used."""
        return self.vocab_size + int(self.bos)

    @property
    def bos_token(self) -> int:
        return self.vocab_size

    def for_vocab(self, vocab_size: int) -> "ModelConfig":
        """This config with `vocab_size` filled in; a different, explicit size is an error."""
        if self.vocab_size is None:
            return self.replace(vocab_size=vocab_size)
        if self.vocab_size != vocab_size:
            _fail("ModelConfig", "vocab_size", self.vocab_size, f"the process has {vocab_size} tokens")
        return self


@dataclass(frozen=True)
class TrainConfig(_Serialisable):
    """Optimiser, schedule, data and bookkeeping for one run (or each member of an ensemble).

    Schedules scale the peak `learning_rate`: `constant`; `warmup` (linear ramp over `warmup_steps`,
    then constant); `cosine` and `linear` (ramp, then decay to `final_lr_fraction * learning_rate` at
    `num_steps`). Weight decay is decoupled for `adamw` and an L2 term for `sgd`; `adam` has none.
    `checkpoint_steps` adds steps (e.g. log-spaced, for emergence over training) to every
    `checkpoint_every`; `keep_checkpoints=None` keeps all of them. Evaluation is exact over the
    mixed-state tree when it has at most `exact_eval_max_sequences` sequences, otherwise it uses
    `eval_sequences` sampled ones drawn once from the eval key.
    `microbatches` splits each batch into independent parts whose gradients are averaged (the same
    mean-loss gradient); on a CPU the parts run on different cores. None: 2 on a single CPU device
    with at least 2 cores, else 1.
    """

    optimizer: str = "adam"
    learning_rate: float = 3e-3
    schedule: str = "cosine"
    warmup_steps: int = 200
    final_lr_fraction: float = 0.0
    num_steps: int = 12000
    batch_size: int = 256
    grad_clip: float | None = 1.0
    weight_decay: float = 0.0
    momentum: float = 0.9
    nesterov: bool = False
    adam_b1: float = 0.9
    adam_b2: float = 0.999
    steps_per_call: int = 100
    microbatches: int | None = None
    eval_every: int = 1000
    checkpoint_every: int | None = 1000
    checkpoint_steps: tuple = field(default=())
    keep_checkpoints: int | None = None
    seed: int = 0
    eval_sequences: int = 16384
    exact_eval_max_sequences: int = 2**17

    def __post_init__(self):
        own = "TrainConfig"
        _check_choice(own, "optimizer", self.optimizer, OPTIMIZERS)
        _check_float(own, "learning_rate", self.learning_rate, 0.0, low_open=True)
        _check_choice(own, "schedule", self.schedule, SCHEDULES)
        _check_int(own, "num_steps", self.num_steps, 1)
        _check_int(own, "warmup_steps", self.warmup_steps, 0, self.num_steps)
        if self.schedule == "warmup" and self.warmup_steps == 0:
            _fail(own, "warmup_steps", 0, "schedule 'warmup' needs warmup_steps >= 1")
        _check_float(own, "final_lr_fraction", self.final_lr_fraction, 0.0, 1.0)
        _check_int(own, "batch_size", self.batch_size, 1)
        if self.grad_clip is not None:
            _check_float(own, "grad_clip", self.grad_clip, 0.0, low_open=True)
        _check_float(own, "weight_decay", self.weight_decay, 0.0)
        if self.optimizer == "adam" and self.weight_decay > 0:
            _fail(own, "weight_decay", self.weight_decay, "optimizer 'adam' has no weight decay; use 'adamw'")
        _check_float(own, "momentum", self.momentum, 0.0, 1.0)
        if not isinstance(self.nesterov, bool):
            _fail(own, "nesterov", self.nesterov, "must be true or false")
        _check_float(own, "adam_b1", self.adam_b1, 0.0, 1.0)
        _check_float(own, "adam_b2", self.adam_b2, 0.0, 1.0)
        _check_int(own, "steps_per_call", self.steps_per_call, 1)
        if self.microbatches is not None:
            _check_int(own, "microbatches", self.microbatches, 1)
            if self.batch_size % self.microbatches:
                _fail(own, "microbatches", self.microbatches, f"must divide batch_size={self.batch_size}")
        _check_int(own, "eval_every", self.eval_every, 1)
        if self.checkpoint_every is not None:
            _check_int(own, "checkpoint_every", self.checkpoint_every, 1)
        if not isinstance(self.checkpoint_steps, (tuple, list)):
            _fail(own, "checkpoint_steps", self.checkpoint_steps, "must be a list of step numbers")
        object.__setattr__(self, "checkpoint_steps", tuple(self.checkpoint_steps))
        for s in self.checkpoint_steps:
            _check_int(own, "checkpoint_steps[]", s, 0, self.num_steps)
        if self.keep_checkpoints is not None:
            _check_int(own, "keep_checkpoints", self.keep_checkpoints, 1)
        _check_int(own, "seed", self.seed, 0, 2**32 - 1)
        _check_int(own, "eval_sequences", self.eval_sequences, 1)
        _check_int(own, "exact_eval_max_sequences", self.exact_eval_max_sequences, 0)

    # Fields that may change when a run resumes: they affect bookkeeping, never the parameters.
    RESUMABLE_CHANGES = (
        "eval_every",
        "checkpoint_every",
        "checkpoint_steps",
        "keep_checkpoints",
        "steps_per_call",
        "eval_sequences",
        "exact_eval_max_sequences",
    )
