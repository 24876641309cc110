"""What a figure test can check about a written image: it is a real picture, not blank, with colour where the
figure draws coloured points, and an animation has one frame per checkpoint."""

import numpy as np
from PIL import Image


def image_stats(path) -> dict:
    """Height, width, the share of non-white pixels ("ink") and of strongly coloured pixels, and the frames."""
    with Image.open(path) as img:
        frames = getattr(img, "n_frames", 1)
        rgb = np.asarray(img.convert("RGB"), np.float64) / 255.0
    ink = (rgb.min(-1) < 0.9).mean()
    colour = ((rgb.max(-1) - rgb.min(-1)) > 0.3).mean()
    return {"height": rgb.shape[0], "width": rgb.shape[1], "ink": float(ink), "colour": float(colour), "frames": frames}


def assert_drawn(path, *, coloured: bool = False, min_aspect: float = 0.0) -> dict:
    """A picture with something drawn (at least 1% ink), colour when `coloured`, and width/height at least
    `min_aspect` (a row of n panels is wider than one)."""
    stats = image_stats(path)
    assert stats["ink"] > 0.01, (path, stats)
    if coloured:
        assert stats["colour"] > 1e-4, (path, stats)
    assert stats["width"] / stats["height"] >= min_aspect, (path, stats)
    return stats
