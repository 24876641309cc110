"""`belieflab intervene --prior-shift` on a tiny mixture run: the results kept beside the earlier ones, the unsteered
curve against a shifted-prior mixture built by hand, the report table against the JSON, and one-line errors."""

import html
import json
import re

import jax
import numpy as np
import pytest

import hmm
from experiments.cli import main
from experiments.config.experiment import load_config, save_config
from tests.experiments.tiny_mixture import MIXTURE

COMPONENTS = [hmm.get_process("mess3"), hmm.get_process("mess3", x=0.15, alpha=0.6)]
WEIGHTS = np.array([0.4, 0.6])  # the shared tiny run's mixture (`MIXTURE`)
# an earlier patching result (the shape `belieflab intervene` writes): a prior-shift-only run must keep it
EARLIER = {
    "patching": {"num_pairs": 3, "sites": ["ln_final"], "modes": ["last"], "closed": {"last": {"ln_final": 0.25}}}
}
DELTAS = (1.5, -1.0)
SITES = ("blocks.0.resid_post",)
SEQUENCES = 40


@pytest.fixture(scope="module")
def mixture_run(mixture_run_copy):
    """This module's copy of the shared tiny mixture run (`tests/experiments/conftest.py`)."""
    return mixture_run_copy


def _table(page: str, title: str) -> list[list[str]]:
    """The cells (text) of the table after the heading `title` in report.html, header row first."""
    start = re.search(f">{re.escape(html.escape(title))}[^<]*</h2>", page).end()
    body = page[start : page.index("</table>", start)]
    return [
        [html.unescape(re.sub("<[^>]+>", "", c)) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body)
    ]


def test_prior_shift_only_adds_its_results_keeps_the_others_and_reports_them(mixture_run, capsys):
    run_dir = mixture_run.run_dir
    report = json.loads((run_dir / "analysis.json").read_text())
    (run_dir / "analysis.json").write_text(json.dumps(report | {"interventions": EARLIER}))
    args = ["--prior-shift-deltas", ",".join(map(str, DELTAS)), "--prior-shift-sites", ",".join(SITES)]
    assert main(["intervene", str(run_dir), "--prior-shift-only", *args, "--prior-shift-sequences", "40"]) == 0
    assert "prior shift" in capsys.readouterr().out
    report = json.loads((run_dir / "analysis.json").read_text())
    section = report["interventions"]
    assert section["patching"] == EARLIER["patching"] and section["kept_from_earlier"] == ["patching"]
    assert section["steering"] is None
    shift = section["prior_shift"]
    assert [(r["site"], r["delta"]) for r in shift["results"]] == [(s, [d, 0.0]) for s in SITES for d in DELTAS]
    assert (run_dir / report["figures"]["interventions_prior_shift"]).stat().st_size > 1000

    # the unsteered model against Bayes under the true and the shifted prior, the shifted one a mixture built anew
    from analysis.interventions.prior_shift import heldout_inputs
    from analysis.regression.prefixes import input_layout
    from models.restore import load_checkpoint

    model = load_checkpoint(run_dir / "checkpoints").model
    layout = input_layout(model)
    seed = mixture_run.train.seed
    inputs, tokens = heldout_inputs(hmm.mixture(COMPONENTS, WEIGHTS), layout, SEQUENCES, seed=seed)
    log_q = np.asarray(jax.nn.log_softmax(model(jax.numpy.asarray(inputs))[0], -1), np.float64)
    for r in shift["results"]:
        prior = WEIGHTS * np.exp(r["delta"])
        for which, weights in (("base", WEIGHTS), ("shifted", prior / prior.sum())):
            mixture = hmm.mixture(COMPONENTS, weights)
            eta = np.asarray(hmm.beliefs(mixture, tokens), np.float64)
            if layout.bos:  # position 0 reads BOS: the prediction before any token
                eta = np.concatenate([np.broadcast_to(np.asarray(mixture.initial_belief), eta[:, :1].shape), eta], 1)
            p = np.asarray(hmm.predictive_distribution(mixture, eta))
            expected = np.sum(p * (np.log(p) - log_q), -1).mean(0)
            got = r["per_position"]["none"][f"kl_{which}_nats"]
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)

    # report.html: one row per site and shift, every number the JSON's (per condition, the mean over positions)
    rows = _table((run_dir / "report.html").read_text(), "Prior-shift steering")
    header, rows = rows[0], rows[1:]
    assert len(rows) == len(SITES) * len(DELTAS)
    conditions = ("none", "steered", "random", "encoder", "random_encoder")
    for row, r in zip(rows, shift["results"]):
        assert row[0] == r["site"] and row[1].startswith(f"{r['delta'][0]:+.4g} on component 0")
        expected = [r["decoder_r2"], np.mean(r["bayes_kl_shift_vs_base_nats"])]
        for name in conditions:
            curves = r["per_position"][name]
            expected += [np.mean(curves["kl_shifted_nats"]), np.mean(curves["kl_base_nats"])]
        np.testing.assert_allclose([float(c) for c in row[2:-1]], expected, rtol=1e-5, atol=1e-12)
        assert row[-1] == ("yes" if r["closer_to_shifted_everywhere"]["steered"] else "no")
    assert header[-1].startswith("decoder step closer")


@pytest.fixture()
def config_only(tmp_path, request):
    """A run directory with only its config: enough for input errors, which come before any checkpoint is read."""
    config = load_config("smoke", request.param + [f"output_dir={tmp_path}"])
    config.run_dir.mkdir(parents=True)
    save_config(config, config.run_dir / "config.yaml")
    return str(config.run_dir)


@pytest.mark.parametrize(
    "config_only, args, words",
    [
        ([], ["--prior-shift"], "--prior-shift=True is invalid: needs a mixture"),
        ([], ["--prior-shift-sites", "ln_final"], "--prior-shift=True is invalid: needs a mixture"),
        (MIXTURE, ["--prior-shift-deltas", "a,1"], "--prior-shift-deltas='a,1' is invalid"),
        (MIXTURE, ["--prior-shift-deltas", "inf"], "--prior-shift-deltas=(inf,) is invalid: a non-empty list"),
        (MIXTURE, ["--prior-shift-component", "2"], "--prior-shift-component=2 is invalid: the mixture has 2"),
        (MIXTURE, ["--prior-shift-component", "-1"], "--prior-shift-component=-1 is invalid"),
        (MIXTURE, ["--prior-shift-sites", "first"], "--prior-shift-sites=['first'] is invalid"),
        (MIXTURE, ["--prior-shift-sites", "blocks.3.resid_post"], "--prior-shift-sites=['blocks.3.resid_post']"),
        (MIXTURE, ["--prior-shift-sequences", "0"], "--prior-shift-sequences=0 is invalid: must be an integer >= 1"),
    ],
    indirect=["config_only"],
)
def test_prior_shift_input_errors_are_one_line(config_only, capsys, args, words):
    assert main(["intervene", config_only, *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "Traceback" not in err


def test_a_prior_shift_written_before_several_shifts_still_gets_its_table():
    from experiments.report.interventions import prior_shift_table

    curve = {"kl_shifted_nats": [0.3, 0.1], "kl_base_nats": [0.0, 0.2]}
    old = {
        "site": "ln_final",
        "delta": [0.0, 1.0],
        "num_sequences": 7,
        "decoder_r2": 0.5,
        "bayes_kl_shift_vs_base_nats": [0.1, 0.3],
        "per_position": dict.fromkeys(["none", "steered", "random", "encoder", "random_encoder"], curve),
        "closer_to_shifted_everywhere": {"steered": False, "encoder": False},
    }
    ((title, header, rows, note),) = prior_shift_table({"prior_shift": old})
    assert rows == [["ln_final", "+1 on component 1", 0.5, pytest.approx(0.2)] + [0.2, 0.1] * 5 + ["no"]]
    assert len(header) == len(rows[0]) and "7 held-out sequences" in note
