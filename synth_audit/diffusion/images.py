"""Image grids as PNG bytes (for report sections and the app). PIL only; no plotting library."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np

from synth_audit.errors import DataValidationError

__all__ = ["grid_png", "pairs_png"]


def _to_uint8(images: np.ndarray, pixel_range: tuple[float, float]) -> np.ndarray:
    lo, hi = pixel_range
    scaled = (np.clip(images, lo, hi) - lo) / (hi - lo)
    # Digits are dark strokes on white paper when shown: ink (high values) is black.
    return (255 - np.round(scaled * 255)).astype(np.uint8)


def grid_png(
    images: np.ndarray,
    *,
    pixel_range: tuple[float, float] = (0.0, 16.0),
    columns: int = 8,
    scale: int = 4,
    pad: int = 2,
) -> bytes:
    """A grid of square grey images (n, side, side) as PNG bytes, ``columns`` per row."""
    from PIL import Image

    arr = np.asarray(images, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[1] != arr.shape[2] or len(arr) == 0:
        raise DataValidationError(
            f"grid_png needs at least one square image, shape (n, side, side); got {arr.shape}."
        )
    n, side, _ = arr.shape
    cols = max(1, min(int(columns), n))
    rows = -(-n // cols)
    cell = side * scale + pad
    canvas = np.full((rows * cell + pad, cols * cell + pad), 200, dtype=np.uint8)
    tiles = _to_uint8(arr, pixel_range)
    for i in range(n):
        r, c = divmod(i, cols)
        tile = np.kron(tiles[i], np.ones((scale, scale), dtype=np.uint8))
        y, x = pad + r * cell, pad + c * cell
        canvas[y : y + side * scale, x : x + side * scale] = tile
    buf = io.BytesIO()
    Image.fromarray(canvas, mode="L").save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def pairs_png(
    top: np.ndarray,
    bottom: np.ndarray,
    *,
    pixel_range: tuple[float, float] = (0.0, 16.0),
    scale: int = 4,
) -> bytes:
    """Two aligned rows (e.g. generated images above their nearest training images) as one PNG."""
    t = np.asarray(top)
    b = np.asarray(bottom)
    if t.shape != b.shape:
        raise DataValidationError(
            f"pairs_png needs rows of one shape; got {t.shape} and {b.shape}."
        )
    return grid_png(np.concatenate([t, b]), pixel_range=pixel_range, columns=len(t), scale=scale)


def stack(images: Sequence[np.ndarray]) -> np.ndarray:
    return np.stack([np.asarray(i, dtype=np.float64) for i in images])
