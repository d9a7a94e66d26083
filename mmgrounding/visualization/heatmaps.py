"""Heatmaps drawn over images: a JET overlay, a spotlight that keeps the scene's colours, and
the integer upscale that makes a small image legible."""

import math

import cv2
import numpy as np


def _scaled_heat(heatmap: np.ndarray, hw: tuple[int, int], interpolation: int) -> np.ndarray:
    """(h, w) map -> (H, W) float32 in [0, 1] (min-max scaled, NaN as 0)."""
    heat = np.nan_to_num(heatmap.astype(np.float32))
    heat = heat - heat.min()
    heat = heat / heat.max() if heat.max() > 0 else heat
    return cv2.resize(heat, (hw[1], hw[0]), interpolation=interpolation)  # (H, W)


def overlay_heatmap(
    image: np.ndarray,
    heatmap: np.ndarray,
    *,
    alpha: float = 0.5,
    interpolation: int = cv2.INTER_LINEAR,
) -> np.ndarray:
    """Blend a heatmap (any resolution, spanning the image) over an RGB image in the JET
    colours (red high) after min-max scaling.

    Args:
        image: (H, W, 3) uint8 RGB.
        heatmap: (h, w) non-negative map.
        alpha: weight of the heatmap colour.
        interpolation: how the map is resized to (H, W); ``cv2.INTER_NEAREST`` keeps its
            cells visible.

    Returns:
        (H, W, 3) uint8 RGB.
    """
    heat = _scaled_heat(heatmap, image.shape[:2], interpolation)
    coloured = cv2.applyColorMap((heat * 255).astype(np.uint8), cv2.COLORMAP_JET)[..., ::-1]
    return (image * (1 - alpha) + coloured * alpha).astype(np.uint8)


def spotlight_heatmap(
    image: np.ndarray,
    heatmap: np.ndarray,
    *,
    floor: float = 0.3,
    interpolation: int = cv2.INTER_NEAREST,
) -> np.ndarray:
    """Light the image by a heatmap: pixels keep their own colour where the map peaks and
    dim to ``floor`` of their brightness where it is lowest. Unlike a JET overlay this
    leaves the colours of the scene true, which phrases like "a purple heart" are about.

    Args:
        image: (H, W, 3) uint8 RGB.
        heatmap: (h, w) non-negative map spanning the image.
        floor: brightness factor at the map's minimum, in [0, 1].
        interpolation: how the map is resized to (H, W).

    Returns:
        (H, W, 3) uint8 RGB.
    """
    heat = _scaled_heat(heatmap, image.shape[:2], interpolation)[..., None]  # (H, W, 1)
    return (image * (floor + (1 - floor) * heat)).astype(np.uint8)


def upscale_factor(image_hw: tuple[int, int], min_side: int) -> int:
    """The integer factor that brings the shorter image side to at least ``min_side``
    pixels (1 for an image that is large enough already)."""
    return max(1, math.ceil(min_side / max(1, min(image_hw))))
