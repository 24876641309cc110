"""The bookkeeping loop shared by single runs and ensembles: compiled calls between boundaries,
evaluation, checkpoints, resume, divergence, progress bar and callbacks.

Calls run from step s to `min(s + steps_per_call, next boundary)`, so the calls made after any
checkpoint are the same whether or not the run was interrupted there.
"""

import time
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from hmm.errors import LabError
from models.checkpoint import FORMAT, CheckpointError, Store, check_compatible, process_record
from models.config import TrainConfig
from models.keys import key_record
from models.loss_log import LossLog, bin_width
from models.optim import make_schedule
from models.program import Program
from models.sharding import is_main_process


class TrainingDiverged(LabError, RuntimeError):
    """The training loss became NaN or infinite."""


def eval_steps(tc: TrainConfig) -> set:
    return {0, tc.num_steps, *range(tc.eval_every, tc.num_steps, tc.eval_every)}


def checkpoint_steps(tc: TrainConfig) -> set:
    every = range(tc.checkpoint_every, tc.num_steps, tc.checkpoint_every) if tc.checkpoint_every else ()
    return {0, tc.num_steps, *every, *tc.checkpoint_steps}


@dataclass
class Outcome:
    """Final state, metrics per member (a list of per-eval dicts each), where the run resumed, timing."""

    state: object
    metrics: list
    resumed_from: int | None
    timing: dict = field(default_factory=dict)


def identity(program: Program) -> dict:
    """What a checkpoint of this run must match to be resumed."""
    return {
        "format": FORMAT,
        "model_config": program.mc.to_dict(),
        "train_config": program.tc.to_dict(),
        "process": process_record(program.process),
        "members": program.members.to_dict() if program.members else None,
    }


class _Tracker:
    """Metrics histories and running train-loss sums, per member (restorable from checkpoint JSON)."""

    def __init__(self, program: Program, meta: dict | None = None):
        self.program = program
        E = len(program.keys)
        self.history = meta["metrics"] if meta else [[] for _ in range(E)]
        self.loss_sum = list(meta["train_loss_sum"]) if meta else [0.0] * E
        self.loss_count = meta["train_loss_count"] if meta else 0
        self.schedule = make_schedule(program.tc)
        self.loss_log = LossLog(E, bin_width(program.tc.num_steps), meta.get("loss_log") if meta else None)

    def add_losses(self, start_step: int, losses_ExK):
        self.loss_log.add(start_step, losses_ExK)
        self.loss_sum = [s + float(np.sum(l.astype(np.float64))) for s, l in zip(self.loss_sum, losses_ExK)]
        self.loss_count += losses_ExK.shape[1]

    def record_eval(self, step: int, results) -> list:
        tc, mc = self.program.tc, self.program.mc
        lrs = self.program.members.learning_rates if self.program.members else (tc.learning_rate,)
        if step >= tc.num_steps:
            self.loss_log.flush(step)
        rows = []
        for i, result in enumerate(results):
            row = {
                "step": step,
                "tokens": step * tc.batch_size * mc.n_ctx,
                "train/learning_rate": float(lrs[i] * float(self.schedule(step))),
            }
            if self.loss_count:
                loss = self.loss_sum[i] / self.loss_count
                row["train/loss"] = loss
                row["train/relative_loss"] = loss / result.optimal_loss
            row.update(result.to_metrics())
            row.update(self.loss_log.take(i))
            self.history[i].append(row)
            rows.append(row)
        self.loss_sum, self.loss_count = [0.0] * len(results), 0
        return rows

    def meta(self, step: int, identity_: dict) -> dict:
        keys = [key_record(k) for k in self.program.keys]
        return {
            **identity_,
            "step": step,
            "keys": keys if self.program.members else keys[0],
            "metrics": self.history,
            "train_loss_sum": self.loss_sum,
            "train_loss_count": self.loss_count,
            "loss_log": self.loss_log.state(),
        }


def _resume(program: Program, store: Store, ident: dict):
    """State and tracker from the latest checkpoint, or None when the directory has none."""
    steps = store.steps()
    if not steps:
        return None
    step = steps[-1]
    meta = store.read_meta(step)
    check_compatible(meta, ident, TrainConfig.RESUMABLE_CHANGES, where=str(store.directory / str(step)))
    state = store.restore_state(step, program.abstract_state())
    if int(np.asarray(state.step).reshape(-1)[0]) != step:
        raise CheckpointError(
            f"checkpoint {store.directory / str(step)} holds state of step {int(np.asarray(state.step).reshape(-1)[0])}"
        )
    return step, state, _Tracker(program, meta)


def run(program: Program, checkpoint_dir=None, on_eval=None, progress: bool = True) -> Outcome:
    """Train `program` to `num_steps`, resuming from `checkpoint_dir` if it holds checkpoints."""
    tc = program.tc
    ident = identity(program)
    store = Store(checkpoint_dir, keep=tc.keep_checkpoints) if checkpoint_dir is not None else None
    try:
        resumed = _resume(program, store, ident) if store else None
        step, state, tracker = resumed if resumed else (0, program.init(), _Tracker(program))
        evals = eval_steps(tc)
        saves = checkpoint_steps(tc) if store else set()
        boundaries = sorted(evals | saves)
        main = is_main_process()
        trained_steps, t0, postfix = 0, time.perf_counter(), {}
        done = last_saved = resumed[0] if resumed else None  # a checkpoint's own eval and save are done
        with tqdm(
            total=tc.num_steps, initial=step, unit="step", disable=not (progress and main), dynamic_ncols=True
        ) as bar:
            while True:
                if step != done:
                    if step in evals:
                        rows = tracker.record_eval(step, program.evaluate(state))
                        postfix.update(_postfix_eval(rows))
                        if on_eval is not None and main:
                            on_eval(step, rows if program.members else rows[0])
                    if step in saves:
                        store.save(step, state, tracker.meta(step, ident))
                        last_saved = step
                if step >= tc.num_steps:
                    break
                k = min(tc.steps_per_call, next(b for b in boundaries if b > step) - step)
                state, losses = program.steps(state, k)
                losses = losses.reshape(len(program.keys), k)
                _check_finite(losses, step, program, store, last_saved)
                tracker.add_losses(step, losses)
                step += k
                trained_steps += k
                postfix.update(_postfix_train(losses, program.optimal_losses))
                bar.set_postfix(postfix, refresh=False)
                bar.update(k)
        wall = time.perf_counter() - t0
        tokens = trained_steps * tc.batch_size * program.mc.n_ctx * len(program.keys)
        timing = {"wall_s": wall, "steps": trained_steps, "tokens_per_s": tokens / max(wall, 1e-9)}
        return Outcome(state, tracker.history, resumed[0] if resumed else None, timing)
    finally:
        if store:
            store.close()


def _check_finite(losses_ExK, start: int, program: Program, store, last_saved):
    bad = ~np.isfinite(losses_ExK)
    if not bad.any():
        return
    member, offset = np.argwhere(bad)[np.argmin(np.argwhere(bad)[:, 1])]
    who = (
        f" of member {member} (seed {program.members.seeds[member]}, learning rate "
        f"{program.members.learning_rates[member]})"
        if program.members
        else ""
    )
    if store is None:
        where = "; no checkpoint_dir was given"
    elif last_saved is None:
        where = f"; no checkpoint was written to {store.directory}"
    else:
        where = f"; the last good checkpoint is step {last_saved} in {store.directory}"
    raise TrainingDiverged(
        f"training loss{who} became {losses_ExK[member, offset]} at step {start + offset}"
        f"{where}. Try a lower learning_rate, grad_clip or more warmup_steps."
    )


def _span(values) -> str:
    return f"{min(values):.5f}" if len(values) == 1 else f"{min(values):.4f}..{max(values):.4f}"


def _postfix_eval(rows) -> dict:
    return {"eval_rel": _span([r["eval/relative_loss"] for r in rows])}


def _postfix_train(losses_ExK, optimal_loss_E) -> dict:
    loss = losses_ExK.mean(axis=1)
    return {"loss": _span(loss), "rel": _span(loss / optimal_loss_E)}
