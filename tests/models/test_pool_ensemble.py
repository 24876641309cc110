"""Members training on their own pools of Markov chains (different pool sizes) in one vmapped program: padded
chains are never drawn, each member's batches follow its own pool, and member i equals its solo run."""

import jax
import numpy as np
import pytest
from flax import nnx

import hmm
import models
from models.config import ConfigError, ModelConfig, TrainConfig
from models.member_checkpoint import save_member_checkpoints
from models.pool_source import stacked_pool_sources

V = 3
POOLS = [hmm.get_process("markov_pool", vocab_size=V, num_chains=m, seed=s) for m, s in [(2, 0), (5, 1)]]
MC = ModelConfig(n_layers=1, d_model=16, n_heads=2, d_head=4, d_mlp=32, n_ctx=6)
TC = TrainConfig(
    num_steps=20,
    batch_size=16,
    steps_per_call=10,
    eval_every=10,
    checkpoint_every=10,
    warmup_steps=2,
    learning_rate=1e-2,
    microbatches=1,
)


def leaves(model):
    return [np.asarray(x) for x in jax.tree.leaves(nnx.to_pure_dict(nnx.state(model)))]


def test_padded_chains_are_never_drawn_and_batches_follow_each_members_pool():
    B, L = 3000, 12
    sources = stacked_pool_sources(POOLS)
    assert sources.matrices_MxVxV.shape == (2, 5, V, V)
    keys = jax.random.split(jax.random.key(7), 2)
    tokens_ExBxL, chains_ExB = jax.vmap(lambda s, k: s.sample_with_chains(k, B, L))(sources, keys)
    tokens_ExBxL, chains_ExB = np.asarray(tokens_ExBxL), np.asarray(chains_ExB)
    for pool, tokens, chains in zip(POOLS, tokens_ExBxL, chains_ExB):
        p = pool.param_dict
        matrices = np.random.default_rng(p["seed"]).dirichlet(np.ones(V), size=(p["num_chains"], V))  # by hand
        M = len(matrices)
        assert chains.min() >= 0 and chains.max() < M  # padding (chains M..4) never drawn
        shares = np.bincount(chains, minlength=M) / B
        assert np.all(np.abs(shares - 1 / M) < 5 * np.sqrt((1 / M) * (1 - 1 / M) / B))
        first = np.bincount(tokens[:, 0], minlength=V) / B
        assert np.all(np.abs(first - 1 / V) < 5 * np.sqrt((1 / V) * (1 - 1 / V) / B))
        for c in range(M):  # transition frequencies of each chain's sequences: binomial tolerance per cell
            seqs = tokens[chains == c]
            counts = np.zeros((V, V))
            np.add.at(counts, (seqs[:, :-1].ravel(), seqs[:, 1:].ravel()), 1)
            n_i = counts.sum(1, keepdims=True)
            se = np.sqrt(matrices[c] * (1 - matrices[c]) / n_i)
            assert np.all(np.abs(counts / n_i - matrices[c]) < 5 * se + 1e-9), (M, c)


def test_chain_cdf_caps_at_the_last_real_chain():
    cdf = hmm.pool_chain_cdf(np.log([0.5, 0.5]), 4)
    np.testing.assert_array_equal(cdf, np.float32([0.5, 1.0, 1.0, 1.0]))
    uniform_rows = np.full((4, 2, 2), 0.5)
    # a zero-probability chain before the last real one and padding after it are never drawn
    _, chains = hmm.draw_from_pool(jax.random.key(0), np.float32([0.0, 1.0, 1.0, 1.0]), uniform_rows, 4096, 2)
    assert set(np.asarray(chains).tolist()) == {1}  # chain 0 has probability zero, chains 2, 3 are padding


def test_a_padded_pool_member_equals_its_solo_run_and_its_run_directory_is_a_solo_runs(tmp_path):
    ens = models.train_ensemble(
        None, MC, TC, seeds=[0, 1], processes=POOLS, checkpoint_dir=tmp_path / "ensemble", progress=False
    )
    dirs = [tmp_path / f"member{i}" for i in range(2)]
    assert save_member_checkpoints(tmp_path / "ensemble", dirs) == TC.num_steps
    assert save_member_checkpoints(tmp_path / "ensemble", dirs) == TC.num_steps  # a rerun keeps them
    for i, pool in enumerate(POOLS):
        assert ens.member_process(i) is pool
        loaded = models.load_checkpoint(dirs[i])
        assert loaded.process["params"]["num_chains"] == pool.param_dict["num_chains"]
        assert loaded.train_config == ens.member_config(i) and loaded.metrics == ens.metrics[i]
        for a, b in zip(leaves(loaded.model), leaves(ens.models[i])):
            np.testing.assert_array_equal(a, b)
    assert ens.metrics[0][-1]["eval/optimal_loss"] != ens.metrics[1][-1]["eval/optimal_loss"]  # own processes
    # member 0 (2 chains, padded to 5) against the same pool and key trained alone, un-vmapped and unpadded
    solo = models.train(POOLS[0], MC, ens.member_config(0), progress=False)
    for a, b in zip(leaves(ens.models[0]), leaves(solo.model)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    for m_ens, m_solo in zip(ens.metrics[0], solo.metrics, strict=True):
        for key in ("eval/loss", "eval/optimal_loss", "train/loss"):
            if key in m_solo:
                assert m_ens[key] == pytest.approx(m_solo[key], rel=1e-4), key
    resumed = models.train(POOLS[0], MC, ens.member_config(0), checkpoint_dir=dirs[0], progress=False)
    assert resumed.resumed_from == TC.num_steps  # the member's checkpoint passes a solo run's identity check


@pytest.mark.parametrize(
    "processes, message",
    [
        ([POOLS[0], hmm.get_process("mess3")], r"processes\[1\] = 'mess3' is invalid: .*markov_pool"),
        ([POOLS[0], hmm.get_process("markov_pool", vocab_size=4)], r"vocab_size differs between members \(\[3, 4\]\)"),
        ([POOLS[0]] * 3, r"equally long, got lengths \{'seeds': 2, 'processes': 3\}"),
    ],
)
def test_invalid_member_processes_are_config_errors(processes, message):
    with pytest.raises(ConfigError, match=message):
        models.train_ensemble(None, MC, TC, seeds=[0, 1], processes=processes, progress=False)
