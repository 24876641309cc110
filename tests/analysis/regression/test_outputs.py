"""`analyze` end to end on a small model: analysis.json mirrors the results, figures are written, the untrained
control is the same architecture re-initialised; emergence over checkpoints; the ground-truth figure."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import analysis
import hmm
from analysis.atomic import write_json
from analysis.regression.emergence import analyze_training
from models.config import ModelConfig
from models.transformer import Transformer
from tests.figure_checks import assert_drawn

SMALL = dict(n_layers=2, d_model=16, n_heads=2, d_head=4, d_mlp=32, n_ctx=5)


def _model(seed=0, **overrides):
    return Transformer(ModelConfig(vocab_size=3, **{**SMALL, **overrides}), rngs=nnx.Rngs(seed))


@pytest.fixture(scope="module")
def mess3():
    return hmm.get_process("mess3", x=0.05, alpha=0.85)


@pytest.fixture(scope="module")
def run(mess3, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    result = analysis.analyze(_model(), mess3, num_shuffles=60, cv_folds=3, out_dir=out, tokens_seen=123)
    return result, out


def test_json_holds_the_regression_recomputed_by_hand(run, mess3):
    """analysis.json's R^2 of ln_final onto the belief equals a numpy weighted least-squares fit on activations
    collected here, over the exact tree's prefixes (each read at its last position)."""
    _, out = run
    saved = json.loads((out / "analysis.json").read_text())
    assert saved["schema"] == "belieflab.analysis/1" and list(saved["trained"]) == list(saved["untrained"])
    tree = hmm.mixed_state_presentation(mess3, SMALL["n_ctx"])
    digits = [(tree.codes // 3 ** np.maximum(tree.lengths - 1 - t, 0)) % 3 for t in range(SMALL["n_ctx"])]
    tokens = np.where(np.arange(SMALL["n_ctx"])[None] < tree.lengths[:, None], np.stack(digits, 1), 0)
    _, acts = _model()(jnp.asarray(tokens, jnp.int32), capture=("ln_final",))
    x = np.asarray(acts["ln_final"], np.float64)[np.arange(len(tokens)), tree.lengths - 1]
    w, y = tree.probs / tree.probs.sum(), tree.beliefs
    design = np.c_[np.ones(len(x)), x] * np.sqrt(w)[:, None]
    beta = np.linalg.lstsq(design, y * np.sqrt(w)[:, None], rcond=None)[0]
    yhat = np.c_[np.ones(len(x)), x] @ beta
    r2 = 1 - np.sum(w[:, None] * (y - yhat) ** 2) / np.sum(w[:, None] * (y - w @ y) ** 2)
    assert saved["trained"]["ln_final"]["targets"]["belief"]["r2"] == pytest.approx(r2, abs=2e-3)
    assert saved["data"]["num_prefixes"] == sum(3**k for k in range(1, 6)) == len(tree.codes)
    assert saved["model"]["tokens_seen"] == 123 and saved["model"]["config"]["d_model"] == 16
    assert saved["trained"]["ln_final"]["targets"]["belief"]["shuffle"]["num_permutations"] == 60


def test_figures_are_written(run):
    _, out = run
    saved = json.loads((out / "analysis.json").read_text())
    assert set(saved["figures"]) == {"geometry", "geometry_untrained", "r2_by_site"}
    assert_drawn(out / saved["figures"]["geometry"], coloured=True)  # truth beside every site
    assert_drawn(out / saved["figures"]["geometry_untrained"], coloured=True)
    assert_drawn(out / saved["figures"]["r2_by_site"])
    assert not [p for p in out.rglob("*.tmp*")]  # atomic writes leave no temporaries


def test_untrained_control_is_the_architecture_reinitialised(run):
    model = _model()
    a, b, c = (analysis.untrained_copy(model, seed) for seed in (0, 0, 1))
    leaves = [jax.tree.leaves(nnx.state(m)) for m in (model, a, b, c)]
    assert all(x.shape == y.shape for x, y in zip(leaves[0], leaves[1]))
    assert all(np.array_equal(x, y) for x, y in zip(leaves[1], leaves[2]))
    assert not all(np.array_equal(x, y) for x, y in zip(leaves[1], leaves[3]))
    assert not all(np.array_equal(x, y) for x, y in zip(leaves[0], leaves[1]))
    result, _ = run
    trained, untrained = (r["ln_final"].targets["belief"].metrics for r in (result.trained, result.untrained))
    assert trained != untrained


def test_bos_models_include_the_bos_position(mess3):
    result = analysis.analyze(
        _model(bos=True), mess3, sites=["blocks.1.resid_post"], num_shuffles=0, cv_folds=0, untrained=False
    )
    p = result.prefixes
    assert p.lengths[0] == 0 and p.positions[0] == 0 and p.probs[0] == 1.0
    np.testing.assert_allclose(p.beliefs[0], mess3.stationary_distribution)
    assert np.all(p.positions[1:] == p.lengths[1:])  # position k holds the prefix of length k


def test_emergence_over_checkpoints(mess3, tmp_path):
    checkpoints = [(0, 0, _model(0)), (1000, 10, _model(1)), (5000, 50, _model(2))]
    curve = analyze_training(checkpoints, mess3, num_shuffles=20, out_dir=tmp_path)
    assert curve.tokens == [0, 1000, 5000] and curve.emergence_group == "blocks.1.resid_post"
    assert curve.r2("blocks.1.resid_post").shape == (3,)
    assert assert_drawn(tmp_path / curve.figures["emergence_gif"], coloured=True)["frames"] == 3  # one a checkpoint
    assert_drawn(tmp_path / curve.figures["r2_vs_tokens"])
    assert_drawn(tmp_path / curve.figures["emergence_grid"], coloured=True)
    json.dumps(curve.to_dict())


@pytest.mark.parametrize("name", ["mess3", "rrxor", "post_quantum"])
def test_ground_truth_figure(name, tmp_path):
    tree = hmm.mixed_state_presentation(hmm.get_process(name), 6)
    path = analysis.plot_ground_truth(tree, tmp_path / f"{name}.png")
    assert_drawn(path, coloured=True)


def test_json_writer_turns_nan_into_null(tmp_path):
    path = write_json(tmp_path / "a.json", {"x": float("nan"), "y": np.float32(1.5), "z": np.arange(2)})
    assert json.loads(path.read_text()) == {"x": None, "y": 1.5, "z": [0, 1]}
