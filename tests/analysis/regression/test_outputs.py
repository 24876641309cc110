"""`analyze` end to end on a small model: analysis.json mirrors the results, figures are written, the untrained
control is the same architecture re-initialised; emergence over checkpoints; the ground-truth figure."""

import json

import jax
import numpy as np
import pytest
from flax import nnx

import analysis
import hmm
from analysis.regression.emergence import analyze_training
from analysis.atomic import write_json
from models.config import ModelConfig
from models.transformer import Transformer

SMALL = dict(n_layers=2, d_model=16, n_heads=2, d_head=4, d_mlp=32, n_ctx=5)
PNG, GIF = b"\x89PNG\r\n\x1a\n", b"GIF8"


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


def test_json_mirrors_the_results(run):
    result, out = run
    saved = json.loads((out / "analysis.json").read_text())
    assert saved["schema"] == "belieflab.analysis/1"
    assert list(saved["trained"]) == list(result.groups) == list(saved["untrained"])
    assert "concat" in saved["groups"] and len(saved["groups"]["concat"]) == len(result.groups) - 1
    for g, res in result.trained.items():
        for t, r in res.targets.items():
            entry = saved["trained"][g]["targets"][t]
            assert entry["r2"] == pytest.approx(r.metrics["r2"])
            assert entry["cv"]["r2"] == pytest.approx(r.cv["r2"])
            assert entry["shuffle"]["p_value"] == pytest.approx(r.null.p_value)
            assert entry["shuffle"]["num_permutations"] == 60
    assert saved["data"]["num_prefixes"] == sum(3**k for k in range(1, 6))
    assert saved["model"]["tokens_seen"] == 123 and saved["model"]["config"]["d_model"] == 16
    assert saved["headline"]["belief"]["site"] in result.groups


def test_figures_are_written(run):
    _, out = run
    saved = json.loads((out / "analysis.json").read_text())
    assert set(saved["figures"]) == {"geometry", "geometry_untrained", "r2_by_site"}
    for path in saved["figures"].values():
        assert (out / path).read_bytes()[:8] == PNG
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
    result = analysis.analyze(_model(bos=True), mess3, sites=["blocks.1.resid_post"], num_shuffles=0, cv_folds=0,
                              untrained=False)
    p = result.prefixes
    assert p.lengths[0] == 0 and p.positions[0] == 0 and p.probs[0] == 1.0
    np.testing.assert_allclose(p.beliefs[0], mess3.stationary_distribution)
    assert np.all(p.positions[1:] == p.lengths[1:])  # position k holds the prefix of length k


def test_emergence_over_checkpoints(mess3, tmp_path):
    checkpoints = [(0, 0, _model(0)), (1000, 10, _model(1)), (5000, 50, _model(2))]
    curve = analyze_training(checkpoints, mess3, num_shuffles=20, out_dir=tmp_path)
    assert curve.tokens == [0, 1000, 5000] and curve.emergence_group == "blocks.1.resid_post"
    assert curve.r2("blocks.1.resid_post").shape == (3,)
    assert (tmp_path / curve.figures["emergence_gif"]).read_bytes()[:4] == GIF
    for name in ("r2_vs_tokens", "emergence_grid"):
        assert (tmp_path / curve.figures[name]).read_bytes()[:8] == PNG
    json.dumps(curve.to_dict())


@pytest.mark.parametrize("name", ["mess3", "rrxor", "post_quantum"])
def test_ground_truth_figure(name, tmp_path):
    tree = hmm.mixed_state_presentation(hmm.get_process(name), 6)
    path = analysis.plot_ground_truth(tree, tmp_path / f"{name}.png")
    assert path.read_bytes()[:8] == PNG


def test_json_writer_turns_nan_into_null(tmp_path):
    path = write_json(tmp_path / "a.json", {"x": float("nan"), "y": np.float32(1.5), "z": np.arange(2)})
    assert json.loads(path.read_text()) == {"x": None, "y": 1.5, "z": [0, 1]}
