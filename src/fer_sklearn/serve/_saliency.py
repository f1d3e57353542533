"""A face's saliency map as the server sends it: a small grid of numbers over its box."""

import numpy as np
from PIL import Image


def saliency_grid(face, side):
    """``{"box", "values"}``: the map of ``analyze(..., explain=True)`` resized to at most
    ``side`` values across (the model's input: it has no finer detail), rounded to 3
    decimals, rows top to bottom, over its box in the photo's pixels."""
    saliency = np.asarray(face["saliency"], dtype=np.float32)
    x, y, w, h = (int(v) for v in face["saliency_box"])
    scale = min(1.0, side / max(w, h))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    grid = np.asarray(Image.fromarray(saliency, mode="F").resize(size, Image.Resampling.BOX))
    return {"box": {"x": x, "y": y, "w": w, "h": h},
            "values": np.round(np.clip(grid, 0, 1), 3).tolist()}
