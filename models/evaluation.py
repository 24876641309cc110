"""Expected next-token cross-entropy at every position, exactly over the mixed-state tree when it is
small enough, otherwise over a fixed sampled set; relative to the Bayes optimum; KL to the Bayes
predictive distribution.

Each evaluated sequence carries its probability and the Bayes next-token distribution at every
position, so the loss is `sum_seq P(seq) sum_x P(x | belief_t) (-log q_t(x))` (no sampling noise
from the target token). Sequences hold `context_length` process tokens; the model's input adds BOS
when configured.
"""

from dataclasses import asdict, dataclass

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

import hmm
from models.config import ModelConfig
from models.data import context_length, inputs_from_context, position_beliefs, split_batch
from models.keys import run_keys

CHUNK = 4096  # sequences per forward pass


@dataclass(frozen=True)
class EvalSet:
    """Inputs `[N, n_ctx]`, weights `[N]` (sum 1), Bayes predictive `[N, n_ctx, V]`, optimum per position."""

    inputs: np.ndarray
    weights: np.ndarray
    predictive: np.ndarray
    optimal_by_position: np.ndarray  # nats [n_ctx]
    optimal_loss: float
    exact: bool

    @property
    def num_sequences(self) -> int:
        return len(self.weights)


def _bayes_predictive(process, beliefs):
    """`P(x | belief)`, clipped at 0 and renormalised (generalized HMMs can round slightly negative)."""
    p = np.clip(hmm.predictive_distribution(process, np.asarray(beliefs, np.float64)), 0.0, None)
    return p / p.sum(-1, keepdims=True)


def _entropy(p):
    return -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), axis=-1)


def source_predictive(source, tokens_NxC, cfg: ModelConfig) -> np.ndarray:
    """Bayes next-token distributions `[N, n_ctx, V]` at each input position, for a data source without finite
    states that offers `predictive(tokens)` (row t: `P(x_{t+1} | x_0..x_t)`) and a uniform first token
    (as `hmm.DirichletMarkov`): with BOS, the BOS position predicts x_0 uniformly."""
    rows = np.asarray(source.predictive(np.asarray(tokens_NxC, np.int32)), np.float64)
    if not cfg.bos:
        return rows
    V = rows.shape[-1]
    return np.concatenate([np.full((len(rows), 1, V), 1.0 / V), rows], axis=1)


def _sampled_source_eval_set(source, cfg: ModelConfig, key, num_sampled: int) -> EvalSet:
    """A fixed sampled set from a data source without finite states (see `source_predictive`)."""
    tokens = np.asarray(source.sample(key, num_sampled, context_length(cfg)))
    predictive = source_predictive(source, tokens, cfg)
    weights = np.full(num_sampled, 1.0 / num_sampled)
    optimal_by_position = weights @ _entropy(predictive)
    inputs = np.asarray(inputs_from_context(jnp.asarray(tokens, jnp.int32), cfg))
    return EvalSet(
        inputs, weights, predictive.astype(np.float32), optimal_by_position, float(optimal_by_position.mean()), False
    )


def build_eval_set(process, cfg: ModelConfig, key, max_exact: int = 2**17, num_sampled: int = 16384) -> EvalSet:
    """Every sequence of the model's context with its probability if there are at most `max_exact`
    candidates (`V ** context_length`), else `num_sampled` sequences drawn from `key`. A data source without
    finite states (`hmm.DirichletMarkov`) is always evaluated on a fixed sampled set."""
    if not isinstance(process, hmm.Process):
        return _sampled_source_eval_set(process, cfg, key, num_sampled)
    C = context_length(cfg)
    exact = process.vocab_size**C <= max_exact
    if exact:
        tokens, probs, beliefs = hmm.mixed_state_presentation(process, C).sequences(C)
        weights = np.asarray(probs, np.float64)
    else:
        tokens, beliefs = (np.asarray(a) for a in hmm.sample(process, key, num_sampled, C))
        weights = np.full(num_sampled, 1.0 / num_sampled)
    beliefs = position_beliefs(np.asarray(beliefs, np.float64), process.initial_belief, cfg)
    predictive = _bayes_predictive(process, beliefs)
    optimal_by_position = (weights[:, None] * _entropy(predictive)).sum(0)
    if exact:
        h = hmm.myopic_entropy(process, cfg.n_ctx + 1)
        optimal_by_position = h[: cfg.n_ctx] if cfg.bos else h[1:]
    optimal = float(hmm.optimal_loss(process, cfg.n_ctx, bos=cfg.bos)) if exact else float(optimal_by_position.mean())
    inputs = np.asarray(inputs_from_context(jnp.asarray(tokens, jnp.int32), cfg))
    return EvalSet(
        inputs,
        weights / weights.sum(),
        predictive.astype(np.float32),
        np.asarray(optimal_by_position, np.float64),
        optimal,
        exact,
    )


def chunked(eval_set: EvalSet, multiple: int = 1):
    """Arrays reshaped to `[num_chunks, chunk, ...]`, padded with zero-weight rows; chunk % multiple == 0."""
    chunk = -(-min(CHUNK, eval_set.num_sequences) // multiple) * multiple
    n = eval_set.num_sequences
    pad = -n % chunk

    def shape(a):
        a = np.concatenate([a, np.zeros((pad,) + a.shape[1:], a.dtype)]) if pad else a
        return a.reshape((-1, chunk) + a.shape[1:])

    return shape(eval_set.inputs), shape(eval_set.weights.astype(np.float32)), shape(eval_set.predictive)


def make_eval_fn(apply_logits, microbatches: int = 1):
    """`fn(params, inputs, weights, predictive) -> (ce_by_position [L], kl_by_position [L])` over chunks.

    `apply_logits(params, inputs_BxL) -> logits_BxLxV`; each chunk is evaluated as `microbatches`
    independent parts.
    """

    def part_sums(params, inputs_NxL, w_N, p_NxLxV):
        logq_NxLxV = jax.nn.log_softmax(apply_logits(params, inputs_NxL), axis=-1)
        logp_NxLxV = jnp.log(jnp.where(p_NxLxV > 0, p_NxLxV, 1.0))
        ce_NxL = -(p_NxLxV * logq_NxLxV).sum(-1)
        kl_NxL = (p_NxLxV * (logp_NxLxV - logq_NxLxV)).sum(-1)
        return w_N @ ce_NxL, w_N @ kl_NxL

    def fn(params, inputs_CxNxL, weights_CxN, predictive_CxNxLxV):
        def body(acc, chunk):
            for part in split_batch(microbatches, *chunk):
                ce_L, kl_L = part_sums(params, *part)
                acc = (acc[0] + ce_L, acc[1] + kl_L)
            return acc, None

        L = inputs_CxNxL.shape[-1]
        zeros = jnp.zeros((L,), jnp.float32)
        return jax.lax.scan(body, (zeros, zeros), (inputs_CxNxL, weights_CxN, predictive_CxNxLxV))[0]

    return fn


@dataclass(frozen=True)
class EvalResult:
    """Expected cross-entropy (nats) per position and mean, its ratio to the optimum, and KL."""

    loss_by_position: list
    loss: float
    relative_loss: float
    kl_by_position: list
    kl: float
    optimal_loss: float
    optimal_loss_by_position: list
    exact: bool
    num_sequences: int

    def to_metrics(self, prefix: str = "eval/") -> dict:
        return {prefix + k: v for k, v in asdict(self).items()}


def summarise(ce_by_position, kl_by_position, eval_set: EvalSet) -> EvalResult:
    """Plain-Python metrics from the per-position sums."""
    ce = np.asarray(ce_by_position, np.float64)
    kl = np.asarray(kl_by_position, np.float64)
    return EvalResult(
        loss_by_position=ce.tolist(),
        loss=float(ce.mean()),
        relative_loss=float(ce.mean() / eval_set.optimal_loss),
        kl_by_position=kl.tolist(),
        kl=float(kl.mean()),
        optimal_loss=eval_set.optimal_loss,
        optimal_loss_by_position=eval_set.optimal_by_position.tolist(),
        exact=eval_set.exact,
        num_sequences=eval_set.num_sequences,
    )


def evaluate(
    model, process, *, eval_set: EvalSet | None = None, max_exact: int = 2**17, num_sampled: int = 16384, seed: int = 0
) -> EvalResult:
    """Evaluate an nnx `Transformer` (or any callable `tokens -> (logits, _)` with a `.config`).

    Sampled sets (when the tree is too big) are drawn from the eval key of `seed`.
    """
    cfg = model.config
    if eval_set is None:
        eval_set = build_eval_set(process, cfg, run_keys(seed).eval, max_exact, num_sampled)
    if isinstance(model, nnx.Module):
        graphdef, state = nnx.split(model)
        fn = jax.jit(make_eval_fn(lambda s, x: nnx.merge(graphdef, s)(x)[0]))
        ce, kl = fn(state, *chunked(eval_set))
    else:
        ce, kl = make_eval_fn(lambda _, x: model(x)[0])(None, *chunked(eval_set))
    return summarise(ce, kl, eval_set)
