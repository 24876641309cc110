"""Toy-model lenses: exact N-step predictive distributions against brute-force enumeration, the belief lens and
its transfer matrix, the future lens against its ceiling, the lens config, and one-line CLI errors."""

import itertools

import numpy as np
import pytest
from flax import nnx

import hmm
from analysis.lenses.belief import belief_lens
from analysis.lenses.inputs import LensInputError, split_rows
from analysis.lenses.predictive import n_step_predictive
from analysis.lenses.recipe import Recipe
from analysis.lenses.toy import lens_sites, toy_lenses
from experiments.cli import main
from experiments.config.experiment import load_config, save_config
from models.config import ConfigError, ModelConfig
from models.transformer import Transformer


def brute_force(process, eta_S, n):
    """Sum over every token sequence y_1..y_n of P(y_1..y_n, x | eta), by explicit enumeration."""
    T, w = process.transition_matrices, process.right_vector
    V = process.vocab_size
    out = np.zeros(V)
    for seq in itertools.product(range(V), repeat=n):
        state = eta_S.copy()
        for y in seq:
            state = state @ T[y]
        out += np.array([state @ T[x] @ w for x in range(V)])
    return out / (eta_S @ w)


@pytest.mark.parametrize(
    "name,params",
    [
        ("mess3", {"x": 0.05, "alpha": 0.85}),
        ("rrxor", {"p1": 0.5, "p2": 0.5}),
        ("post_quantum", {"alpha": 2.7, "beta": 0.5}),
    ],
)
def test_n_step_predictive_matches_enumeration_and_sums_to_one(name, params):
    process = hmm.get_process(name, **params)
    tree = hmm.mixed_state_presentation(process, 3)
    beliefs = tree.beliefs[:12]
    for n in range(4):
        exact = n_step_predictive(process, beliefs, n)
        np.testing.assert_allclose(exact.sum(-1), 1.0, atol=1e-12)
        for i in range(len(beliefs)):
            np.testing.assert_allclose(exact[i], brute_force(process, beliefs[i], n), atol=1e-12)
    np.testing.assert_allclose(
        n_step_predictive(process, beliefs, 0), hmm.predictive_distribution(process, beliefs), atol=1e-12
    )


def test_belief_lens_recovers_an_affine_image_and_transfers_as_a_hand_fit_does():
    rng = np.random.default_rng(0)
    process = hmm.get_process("mess3", x=0.05, alpha=0.85)
    tree = hmm.mixed_state_presentation(process, 5)
    beliefs, w = tree.beliefs, tree.probs
    resid = {
        "exact": beliefs @ rng.normal(size=(3, 6)) + 1.0,
        "noise": rng.normal(size=(len(w), 6)),
        "scaled": 3.0 * (beliefs @ rng.normal(size=(3, 6))),
    }
    train, test = split_rows(len(w), 0.3, seed=0)
    out = belief_lens(resid, beliefs, w, train, test)
    assert out["r2"][0] == pytest.approx(1.0, abs=1e-9) and out["r2"][2] == pytest.approx(1.0, abs=1e-9)
    assert out["r2"][1] < 0.2
    # map of site "noise" (full rank: a unique least-squares fit) applied at site "exact", by hand
    sw = np.sqrt(w[train])[:, None]
    beta = np.linalg.lstsq(np.c_[np.ones(len(train)), resid["noise"][train]] * sw, beliefs[train] * sw, rcond=None)[0]
    yhat, wt, y = np.c_[np.ones(len(test)), resid["exact"][test]] @ beta, w[test], beliefs[test]
    r2_10 = 1 - np.sum(wt[:, None] * (y - yhat) ** 2) / np.sum(wt[:, None] * (y - wt @ y / wt.sum()) ** 2)
    assert out["transfer"]["r2"][1][0] == pytest.approx(r2_10, abs=1e-8)
    assert out["transfer"]["r2_penalty"][1][0] == pytest.approx(out["r2"][0] - r2_10, abs=1e-8)
    assert out["transfer"]["r2_penalty"][0][2] > 0.5  # the map of one basis does not read another


@pytest.fixture(scope="module")
def tiny_section():
    cfg = ModelConfig(vocab_size=3, n_layers=1, d_model=8, n_heads=1, d_head=4, d_mlp=16, n_ctx=4)
    model = Transformer(cfg, rngs=nnx.Rngs(0))
    process = hmm.get_process("mess3", x=0.05, alpha=0.85)
    quick = Recipe(steps=20, batch_size=64)
    return toy_lenses(model, process, recipe=quick, future_recipe=Recipe(optimizer="adam", steps=20, batch_size=64))


def test_toy_lenses_section_is_consistent(tiny_section):
    s = tiny_section
    t = s["trained"]
    assert t["sites"][-1] == "blocks.0.resid_post" and "ln_final" not in t["sites"]
    assert t["logit"]["kl_model"][-1] == pytest.approx(0.0, abs=1e-6)
    penalty = np.asarray(t["transfer"]["kl_model_penalty"])
    assert penalty.shape == (len(t["sites"]),) * 2 and np.abs(penalty).max() > 0
    future = s["future"]
    acc, ceiling = np.asarray(future["accuracy"]), np.asarray(future["ceiling"])
    assert np.all(acc <= ceiling[None] + 1e-9) and np.all(np.asarray(future["kl"]) >= -1e-6)
    assert s["untrained"]["tuned"] is not None and "transfer" not in s["untrained"]
    grid = s["logit_grid"]
    assert np.asarray(grid["prob"]).shape == (len(t["sites"]), 4)


def test_lens_sites_and_horizons_are_checked():
    cfg = ModelConfig(vocab_size=3, n_layers=2, d_model=8, n_heads=1, d_head=4, d_mlp=16, n_ctx=4)
    assert lens_sites(cfg, ["blocks.0.resid_mid"]) == ("blocks.0.resid_mid", "blocks.1.resid_post")
    with pytest.raises(LensInputError, match="unknown lens site"):
        lens_sites(cfg, ["blocks.5.resid_post"])
    with pytest.raises(LensInputError, match="horizon"):
        n_step_predictive(hmm.get_process("mess3", x=0.05, alpha=0.85), np.ones((1, 3)) / 3, -1)
    with pytest.raises(ConfigError, match=r"config\.lens\.horizons"):
        load_config("smoke", ["lens.horizons=[0,4]"])
    with pytest.raises(ConfigError, match=r"config\.lens\.optimizer"):
        load_config("smoke", ["lens.optimizer=lion"])
    with pytest.raises(ConfigError, match=r"config\.lens\.heldout_fraction"):
        load_config("smoke", ["lens.heldout_fraction=1.5"])


def _one_line_error(capsys, argv, pattern):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("belieflab: error:"), err
    assert pattern in err[0], err[0]


def test_lens_command_bad_input_is_one_line(tmp_path, capsys):
    _one_line_error(capsys, ["lens", str(tmp_path / "missing")], "does not exist")
    _one_line_error(capsys, ["lens", str(tmp_path)], "is not a run directory")
    run = tmp_path / "run"
    run.mkdir()
    save_config(load_config("smoke"), run / "config.yaml")
    _one_line_error(capsys, ["lens", str(run)], "has no checkpoints")
    _one_line_error(capsys, ["lens", str(run), "--set", "lens.sites=[blocks.7.resid_post]"], "blocks.7.resid_post")
    _one_line_error(capsys, ["lens", str(run), "--set", "lens.horizons=[0,9]"], "config.lens.horizons")
    _one_line_error(capsys, ["lens", str(run), "--set", "train.seed=3"], "lens.FIELD")
