"""Test-wide settings: implicit rank promotion in jax.numpy is an error, so a shape slip cannot broadcast."""

import jax

jax.config.update("jax_numpy_rank_promotion", "raise")
