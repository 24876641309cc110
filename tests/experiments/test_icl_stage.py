"""The icl stage end to end on a tiny pool, stage selection for a source without finite states, the shipped
in-context configs and the pool-size sweep axis."""

import numpy as np
import pytest
from flax import nnx

import hmm
import models
from experiments.config.experiment import load_config, resolve_process
from experiments.grid import parse_axis
from experiments.report.icl import icl_tables
from experiments.stages import StageContext, icl, run_stages
from experiments.stages.base import Stage
from models.config import ConfigError


def test_icl_stage_writes_its_section_figure_and_table(tmp_path):
    config = load_config(
        "smoke",
        [
            "process.name=markov_pool",
            "process.params={vocab_size: 2, num_chains: 2}",
            "model.n_ctx=4",
            "train.eval_sequences=64",
        ],
    )
    process = resolve_process(config.process)
    model = models.Transformer(config.model, rngs=nnx.Rngs(0))
    ctx = StageContext(config, process, tmp_path, model)
    assert icl.STAGE.applies(ctx)
    icl.STAGE.run(ctx)
    section = ctx.report["icl"]
    assert section["exact"] and set(section["curves"]) == {"model", "pool", "dirichlet", "unigram", "bigram"}
    assert (tmp_path / ctx.report["figures"]["icl_loss_by_position"]).stat().st_size > 10_000
    [(_, header, rows, _)] = icl_tables(ctx.report)
    assert header == ["predictor", "1 seen", "2 seen", "4 seen", "mean"] and len(rows) == 5
    np.testing.assert_allclose(section["relative_last"], section["last"]["model"] / section["last"]["pool"])


def test_a_source_without_finite_states_runs_only_the_stages_that_allow_it(tmp_path):
    config = load_config("icl-markov")
    source = resolve_process(config.process)
    assert isinstance(source, hmm.DirichletMarkov) and config.model.vocab_size == 3
    ran = []
    stages = [
        Stage("finite", "needs states", lambda ctx: ran.append("finite")),
        Stage("any", "any source", lambda ctx: ran.append("any"), finite_states=False),
    ]
    run_stages(StageContext(config, source, tmp_path, model=None), stages)
    assert ran == ["any"]
    assert not icl.STAGE.applies(StageContext(load_config("smoke"), hmm.get_process("mess3"), tmp_path, None))


@pytest.mark.parametrize(
    "name", ["mess3-mixture", "mess3-mixture-gpu", "icl-markov", "icl-markov-gpu", "icl-pool", "icl-pool-gpu"]
)
def test_shipped_in_context_configs_load(name):
    process = resolve_process(load_config(name).process)
    assert getattr(process, "is_mixture", False) or isinstance(process, hmm.DirichletMarkov)


def test_pool_size_axis_and_its_errors():
    assert parse_axis("process.pool_size=2,4,8") == ("process.params.num_chains", [2, 4, 8])
    assert parse_axis("pool_size=1..3") == ("process.params.num_chains", [1, 2, 3])
    with pytest.raises(ConfigError, match=r"^config\.process: markov_pool: .*num_chains"):
        load_config("icl-pool", ["process.params.num_chains=0"])
    with pytest.raises(ConfigError, match=r"^config\.process\.components\[0\] must be a mapping"):
        load_config("smoke", ["process.name=mixture", "process.components=[3]"])
