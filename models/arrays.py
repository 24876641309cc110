"""Array helpers shared by the toy and pretrained models."""


def lift(param, like):
    """`param` reshaped to `like`'s rank by leading unit axes: explicit broadcasting (rank promotion is an error)."""
    return param.reshape((1,) * (like.ndim - param.ndim) + param.shape)
