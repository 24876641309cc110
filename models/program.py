"""The compiled functions of a run: init, k training steps, evaluation — for one model, or for an
ensemble by `vmap` over parameters and keys (one learning rate per member), on a data-parallel mesh.
Single runs and ensembles share every function here; only the `vmap` differs.
"""

import json
import os
from dataclasses import dataclass

import jax
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from models.checkpoint import process_record
from models.config import ConfigError, ModelConfig, TrainConfig
from models.evaluation import EvalSet, build_eval_set, chunked, make_eval_fn, summarise
from models.keys import RunKeys, run_keys
from models.pool_source import stacked_pool_sources
from models.sharding import AXIS, batch_sharding, check_batch, data_mesh, place, replicated
from models.train_step import abstract_state, graphdef_of, init_params, make_train_steps, merge, state_from_params


@dataclass(frozen=True)
class Members:
    """Ensemble members: member i trains with seed `seeds[i]` and peak rate `learning_rates[i]`, on
    `processes[i]` when given (pools of Markov chains, e.g. of different sizes), else on the program's process."""

    seeds: tuple
    learning_rates: tuple
    processes: tuple | None = None

    def __len__(self):
        return len(self.seeds)

    def to_dict(self) -> dict:
        out = {"seeds": list(self.seeds), "learning_rates": list(self.learning_rates)}
        if self.processes is not None:
            out["processes"] = [process_record(p) for p in self.processes]
        return out


_COMPILED: dict = {}
_MAX_COMPILED = 64


def _compiled(key, build):
    """A jitted function shared by every run with the same `key` (so repeated runs compile once)."""
    if key not in _COMPILED:
        if len(_COMPILED) >= _MAX_COMPILED:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[key] = build()
    return _COMPILED[key]


def _config_key(config, ignore=()) -> str:
    return json.dumps({k: v for k, v in config.to_dict().items() if k not in ignore}, sort_keys=True)


def _key_data(keys):
    return np.stack([np.asarray(jax.random.key_data(k)) for k in keys])


# TrainConfig fields that never change a compiled function.
NOT_COMPILED = (
    "learning_rate",
    "seed",
    "steps_per_call",
    "eval_every",
    "checkpoint_every",
    "checkpoint_steps",
    "keep_checkpoints",
    "eval_sequences",
    "exact_eval_max_sequences",
)


def resolve_microbatches(tc: TrainConfig, mesh) -> int:
    """`tc.microbatches`, or for None: 2 on one CPU device with >= 2 cores (parts run on both), else 1."""
    if tc.microbatches is not None:
        return tc.microbatches
    device = mesh.devices.flat[0]
    auto = mesh.devices.size == 1 and device.platform == "cpu" and (os.cpu_count() or 1) >= 2
    return 2 if auto and tc.batch_size % 2 == 0 else 1


def check_stackable(eval_sets: list[EvalSet]) -> None:
    """Members' evaluation sets must hold equally many sequences to run as one program."""
    sizes = sorted({s.num_sequences for s in eval_sets})
    if len(sizes) > 1:
        raise ConfigError(
            f"the members' evaluation sets hold different numbers of sequences ({sizes}): set "
            "train.exact_eval_max_sequences=0 so every member is evaluated on train.eval_sequences sampled sequences"
        )


class Program:
    """Compiled pieces of one run (`members=None`) or of an ensemble."""

    def __init__(self, process, mc: ModelConfig, tc: TrainConfig, members: Members | None = None, mesh=None):
        self.process, self.mc, self.tc, self.members = process, mc, tc, members
        self.mesh = data_mesh() if mesh is None else mesh
        check_batch(tc.batch_size, self.mesh)
        self.microbatches = resolve_microbatches(tc, self.mesh)
        self.ensemble = members is not None
        seeds = members.seeds if self.ensemble else (tc.seed,)
        lrs = members.learning_rates if self.ensemble else (tc.learning_rate,)
        self.keys: list[RunKeys] = [run_keys(s) for s in seeds]
        self._rep = replicated(self.mesh)
        self._data_keys = self._stacked(_key_data([k.data for k in self.keys]))
        self._lrs = self._stacked(np.asarray(lrs, np.float32))
        pooled = self.ensemble and members.processes is not None
        self.processes = list(members.processes) if pooled else [process] * len(self.keys)
        sources = stacked_pool_sources(self.processes) if pooled else None
        self._sources = jax.tree.map(lambda a: place(a, self._rep), sources)
        # Compiled functions depend on these, not on seeds, learning rates or bookkeeping fields.
        self._key = (
            json.dumps([process_record(p) for p in (self.processes if pooled else [process])], sort_keys=True),
            _config_key(mc),
            _config_key(tc, NOT_COMPILED),
            len(members) if self.ensemble else None,
            self.mesh,
            self.microbatches,
        )
        start = self._vmap(lambda params, lr: state_from_params(params, tc, lr), (0, 0))
        self._start = _compiled(("start",) + self._key, lambda: jax.jit(start, out_shardings=self._rep))
        self._build_eval()

    def _vmap(self, fn, in_axes):
        return jax.vmap(fn, in_axes=in_axes) if self.ensemble else fn

    def _stacked(self, per_member):
        """Member arrays as one array (ensemble) or the single member's, replicated on the mesh."""
        return place(per_member if self.ensemble else per_member[0], self._rep)

    # -- state -------------------------------------------------------------------------------
    def init(self):
        """Fresh training state: each member's parameters from its init key, exactly as a solo run's.

        Parameters are drawn eagerly (compiling the initialisers takes far longer than running them).
        """
        per_member = [jax.device_get(init_params(self.mc, k.init)) for k in self.keys]
        params = jax.tree.map(lambda *a: np.stack(a), *per_member) if self.ensemble else per_member[0]
        return self._start(jax.tree.map(lambda a: place(a, self._rep), params), self._lrs)

    def abstract_state(self):
        """Shapes, dtypes and shardings of the state, without computing it (for restoring)."""
        return abstract_state(self.mc, self.tc, len(self.members) if self.ensemble else None, self._rep)

    # -- training ----------------------------------------------------------------------------
    def steps(self, state, k: int):
        """`k` training steps in one compiled call: new state and losses (`[k]` or `[E, k]`)."""

        def build():
            run = make_train_steps(self.process, self.mc, self.tc, k, batch_sharding(self.mesh), self.microbatches)
            fn = self._vmap(lambda st, kd, src: run(st, jax.random.wrap_key_data(kd), src), (0, 0, 0))
            return jax.jit(fn, donate_argnums=0)

        state, losses = _compiled(("steps", k) + self._key, build)(state, self._data_keys, self._sources)
        return state, np.asarray(jax.device_get(losses))

    # -- evaluation --------------------------------------------------------------------------
    def _build_eval(self):
        make = lambda keys, process: build_eval_set(
            process, self.mc, keys.eval, self.tc.exact_eval_max_sequences, self.tc.eval_sequences
        )
        first = make(self.keys[0], self.processes[0])
        shared = not self.ensemble or (first.exact and self._sources is None)
        self.eval_sets: list[EvalSet] = (
            [first] * len(self.keys) if shared else [make(k, p) for k, p in zip(self.keys, self.processes)]
        )
        check_stackable(self.eval_sets)
        n = self.mesh.devices.size * self.microbatches
        arrays = [chunked(s, multiple=n) for s in ([first] if shared else self.eval_sets)]
        lead = () if shared else (None,)
        sharding = NamedSharding(self.mesh, P(*lead, None, AXIS))
        stacked = arrays[0] if shared else [np.stack(parts) for parts in zip(*arrays)]
        self._eval_arrays = [place(a, sharding) for a in stacked]
        graphdef = graphdef_of(self.mc)
        fn = make_eval_fn(lambda params, x: merge(graphdef, params)(x)[0], self.microbatches)
        axes = None if shared else 0
        self._eval = _compiled(("eval", shared) + self._key, lambda: jax.jit(self._vmap(fn, (0, axes, axes, axes))))

    def evaluate(self, state) -> list:
        """One `EvalResult` per member."""
        ce, kl = jax.device_get(self._eval(state.params, *self._eval_arrays))
        ce, kl = (np.reshape(a, (len(self.keys), -1)) for a in (ce, kl))
        return [summarise(c, k, s) for c, k, s in zip(ce, kl, self.eval_sets)]

    @property
    def optimal_losses(self) -> np.ndarray:
        """Each member's optimal loss `[E]` (its own process's)."""
        return np.array([s.optimal_loss for s in self.eval_sets])

    def member_params(self, state, i: int):
        """Parameters of member i (the whole state's for a single run)."""
        return jax.tree.map(lambda a: a[i], state.params) if self.ensemble else state.params

    def model(self, params):
        """An nnx `Transformer` holding `params`."""
        return merge(graphdef_of(self.mc), params)
