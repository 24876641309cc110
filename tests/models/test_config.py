"""Config validation: errors name the field, the value and what is allowed."""

import pytest

from models import ConfigError, ModelConfig, TrainConfig


def test_defaults_are_the_papers_mess3_model():
    cfg = ModelConfig()
    assert (cfg.n_layers, cfg.d_model, cfg.n_heads, cfg.d_head, cfg.d_mlp, cfg.n_ctx, cfg.act_fn) == (
        4,
        64,
        1,
        8,
        256,
        10,
        "relu",
    )
    assert cfg.normalization == "layernorm" and not cfg.bos


@pytest.mark.parametrize(
    "cls, field, value, allowed",
    [
        (ModelConfig, "d_model", 0, ">= 1"),
        (ModelConfig, "n_layers", 2.5, "integer"),
        (ModelConfig, "act_fn", "swish", "relu"),
        (ModelConfig, "normalization", "rms", "layernorm"),
        (TrainConfig, "optimizer", "lion", "adamw"),
        (TrainConfig, "learning_rate", -1.0, "> 0"),
        (TrainConfig, "schedule", "exp", "cosine"),
        (TrainConfig, "batch_size", 0, ">= 1"),
        (TrainConfig, "grad_clip", 0.0, "> 0"),
        (TrainConfig, "momentum", 1.5, "<= 1"),
        (TrainConfig, "keep_checkpoints", 0, ">= 1"),
        (TrainConfig, "warmup_steps", 10**9, "[0,"),
    ],
)
def test_invalid_values_name_field_value_and_allowed(cls, field, value, allowed):
    with pytest.raises(ConfigError) as err:
        cls(**{field: value})
    message = str(err.value)
    assert f"{cls.__name__}.{field}" in message and repr(value) in message and allowed in message
    assert isinstance(err.value, ValueError)


def test_cross_field_rules():
    with pytest.raises(ConfigError, match="adamw"):
        TrainConfig(optimizer="adam", weight_decay=0.1)
    with pytest.raises(ConfigError, match="warmup_steps"):
        TrainConfig(schedule="warmup", warmup_steps=0)
    with pytest.raises(ConfigError, match="bos"):
        ModelConfig(n_ctx=1, bos=True)
    with pytest.raises(ConfigError, match="vocab_size"):
        ModelConfig(vocab_size=4).for_vocab(3)


def test_round_trip_through_plain_dicts():
    tc = TrainConfig(checkpoint_steps=(1, 5), keep_checkpoints=None, grad_clip=None)
    assert TrainConfig.from_dict(tc.to_dict()) == tc
    mc = ModelConfig(vocab_size=3, bos=True, normalization=None)
    assert ModelConfig.from_dict(mc.to_dict()) == mc and mc.normalization == "none"
    with pytest.raises(ConfigError, match="no field"):
        ModelConfig.from_dict({"d_modl": 3})
