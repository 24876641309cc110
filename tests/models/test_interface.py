"""The toy Transformer and a pretrained decoder both satisfy the one model interface, with one meaning of
capture="all" (every residual-stream site, in forward order) and the logit lens agreeing with the logits."""

import jax
import numpy as np
import pytest
from flax import nnx

from models import Model, ModelConfig, Transformer


def _toy():
    return Transformer(
        ModelConfig(vocab_size=3, n_layers=2, d_model=16, n_heads=2, d_head=8, d_mlp=32, n_ctx=6), rngs=nnx.Rngs(0)
    )


def _pretrained():
    from tests.models.pretrained.test_interface import _random_llama

    return _random_llama()


@pytest.mark.parametrize("build", [_toy, _pretrained], ids=["toy", "pretrained"])
def test_models_satisfy_the_interface(build):
    model = build()
    assert isinstance(model, Model)
    tokens = jax.random.randint(jax.random.key(0), (2, 5), 0, 3)
    logits, acts = model(tokens, capture="all")
    assert set(acts) == set(model.residual_sites())
    assert set(model.residual_sites()) < set(model.site_names())  # patterns are capturable by name only
    last = [site for site in model.residual_sites() if site.endswith("resid_post")][-1]
    np.testing.assert_allclose(model.logits_from_residual(acts[last]), logits, atol=1e-4)
    with pytest.raises(KeyError):
        model(tokens, capture=("no.such.site",))
