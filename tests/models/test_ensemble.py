"""Ensembles: every vmapped member equals the same run trained alone."""

import jax
import numpy as np
import pytest
from flax import nnx

import hmm
import models
from models import CheckpointError, ConfigError, ModelConfig, TrainConfig
from tests.interrupt import Crash, crash_at

P = hmm.get_process("mess3", x=0.05, alpha=0.85)
MC = ModelConfig(n_layers=2, d_model=16, n_heads=2, d_head=4, d_mlp=32, n_ctx=6)
TC = TrainConfig(
    num_steps=60,
    batch_size=16,
    steps_per_call=10,
    eval_every=20,
    checkpoint_every=20,
    warmup_steps=5,
    learning_rate=1e-2,
)
SEEDS = [0, 1, 2]  # three members everywhere, so every test reuses one compiled ensemble program


def leaves(model):
    return [np.asarray(x) for x in jax.tree.leaves(nnx.to_pure_dict(nnx.state(model)))]


@pytest.mark.parametrize("exact", [True, False])
def test_each_member_equals_its_solo_run(exact):
    tc = TC if exact else TC.replace(exact_eval_max_sequences=0, eval_sequences=512)
    seen = []
    ens = models.train_ensemble(
        P,
        MC,
        tc,
        seeds=[0, 3, 3],
        learning_rates=[1e-2, 1e-2, 3e-3],
        progress=False,
        on_eval=lambda step, rows: seen.append((step, len(rows))),
    )
    assert seen == [(0, 3), (20, 3), (40, 3), (60, 3)]
    finals = []
    for i in range(3):
        solo = models.train(P, MC, ens.member_config(i), progress=False)
        for a, b in zip(leaves(ens.models[i]), leaves(solo.model)):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
        assert len(ens.metrics[i]) == len(solo.metrics)
        for m_ens, m_solo in zip(ens.metrics[i], solo.metrics):
            assert m_ens.keys() == m_solo.keys()
            for key in ("eval/loss", "eval/kl", "eval/relative_loss", "eval/optimal_loss", "train/learning_rate"):
                assert m_ens[key] == pytest.approx(m_solo[key], rel=1e-5, abs=1e-7), key
            assert m_ens["eval/exact"] == exact
        finals.append(ens.metrics[i][-1]["eval/loss"])
    assert len(set(finals)) == 3  # seeds and learning rates really differ between members


def test_ensemble_checkpoints_resume_and_load_members(tmp_path):
    with pytest.raises(Crash):
        models.train_ensemble(P, MC, TC, seeds=SEEDS, checkpoint_dir=tmp_path, on_eval=crash_at(40), progress=False)
    resumed = models.train_ensemble(P, MC, TC, seeds=SEEDS, checkpoint_dir=tmp_path, progress=False)
    whole = models.train_ensemble(P, MC, TC, seeds=SEEDS, progress=False)
    assert resumed.resumed_from == 20 and resumed.metrics == whole.metrics
    member = models.load_checkpoint(tmp_path, member=1)
    assert member.step == 60 and member.metrics == whole.metrics[1]
    for a, b in zip(leaves(member.model), leaves(whole.models[1])):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(CheckpointError, match="member="):
        models.load_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="members"):
        models.train_ensemble(P, MC, TC, seeds=[0, 1, 5], checkpoint_dir=tmp_path, progress=False)


def test_member_lists_are_validated():
    with pytest.raises(ConfigError, match="seeds"):
        models.train_ensemble(P, MC, TC, progress=False)
    with pytest.raises(ConfigError, match="equally long"):
        models.train_ensemble(P, MC, TC, seeds=[0, 1], learning_rates=[1e-3], progress=False)
    with pytest.raises(ConfigError, match="learning_rate"):
        models.train_ensemble(P, MC, TC, learning_rates=[1e-3, -1.0], progress=False)
