"""The pretrained decoder still relies on implicit rank promotion in places (being fixed in models/pretrained);
tests that run it allow promotion for their module only."""

import jax
import pytest


@pytest.fixture(scope="module")
def allow_rank_promotion():
    with jax.numpy_rank_promotion("allow"):
        yield
