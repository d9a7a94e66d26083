"""Rendering a scene to pixels: a pure function of the :class:`~.scene.Scene`."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from .pictograms import object_alpha, part_mask
from .scene import BACKGROUND_KINDS, Background, Scene, SceneObject
from .shapes import COLOURS, UNIT_POLYGONS
from .taxonomy import PART_COLOURS, PART_WINDOWS, concept_chain

_SUPERSAMPLE = 4


def render_background(background: Background, width: int, height: int) -> np.ndarray:
    """Muted textured background pixels.

    Returns:
        (H, W, 3) uint8 RGB.
    """
    rng = np.random.default_rng(background.seed)
    base = rng.uniform(85.0, 165.0)
    rgb0 = np.clip(base + rng.uniform(-22.0, 22.0, size=3), 60.0, 190.0).astype(np.float32)
    rgb1 = np.clip(rgb0 + rng.uniform(-40.0, 40.0, size=3), 55.0, 195.0).astype(np.float32)
    yy = np.arange(height, dtype=np.float32)[:, None]  # (H, 1)
    xx = np.arange(width, dtype=np.float32)[None, :]  # (1, W)
    kind = background.kind
    if kind == 'gradient':
        theta = rng.uniform(0.0, 2.0 * math.pi)
        proj = xx * math.cos(theta) + yy * math.sin(theta)  # (H, W)
        t = (proj - proj.min()) / max(float(np.ptp(proj)), 1e-6)
    elif kind == 'stripes':
        half_period = int(rng.integers(4, 11))
        theta = math.radians(45.0 * int(rng.integers(4)))
        proj = xx * math.cos(theta) + yy * math.sin(theta)
        t = np.floor(proj / half_period) % 2.0
    elif kind == 'checkerboard':
        cell = int(rng.integers(8, 25))
        t = (xx // cell + yy // cell) % 2.0  # (H, W)
    elif kind == 'noise':
        grid = rng.random((int(rng.integers(3, 7)), int(rng.integers(3, 7))))
        t = _upsample_bilinear(grid, height, width).astype(np.float32)
    else:
        raise ValueError(f'unknown background kind {kind!r}; expected one of {BACKGROUND_KINDS}')
    rgb = rgb0 + (rgb1 - rgb0) * t[..., None]  # (H, W, 3)
    rgb += 2.5 * rng.standard_normal(size=(height, width, 1), dtype=np.float32)  # grain
    # Colours stay within [55 - noise, 195 + noise]: no clipping needed before uint8.
    return np.rint(rgb).astype(np.uint8)


def _upsample_bilinear(grid: np.ndarray, height: int, width: int) -> np.ndarray:
    """Smoothly interpolate a (gh, gw) grid of values to (H, W)."""
    gh, gw = grid.shape
    ys = np.linspace(0.0, gh - 1.0, height)
    xs = np.linspace(0.0, gw - 1.0, width)
    y0 = np.minimum(np.floor(ys).astype(int), gh - 2)
    x0 = np.minimum(np.floor(xs).astype(int), gw - 2)
    fy, fx = ys - y0, xs - x0
    fy, fx = fy * fy * (3 - 2 * fy), fx * fx * (3 - 2 * fx)  # smoothstep
    top = grid[y0][:, x0] * (1 - fx) + grid[y0][:, x0 + 1] * fx  # (H, W)
    bottom = grid[y0 + 1][:, x0] * (1 - fx) + grid[y0 + 1][:, x0 + 1] * fx
    return top * (1 - fy)[:, None] + bottom * fy[:, None]


def render_scene(scene: Scene) -> Image.Image:
    """Draw the scene: background, then each object (anti-aliased, dark outline) in order.

    Shapes are filled polygons with an outline; pictograms are glyph silhouettes with the
    glyph's own strokes as the outline, and a part painted in its part colour.

    Returns:
        An RGB image of size (W, H).
    """
    canvas = render_background(scene.background, scene.width, scene.height).astype(np.float32)
    for obj in scene.objects:
        if obj.is_pictogram:
            _draw_pictogram(canvas, obj)
            continue
        x1, y1, x2, y2 = obj.box_xyxy
        w, h = x2 - x1, y2 - y1
        points = [
            (u * w * _SUPERSAMPLE, v * h * _SUPERSAMPLE) for u, v in UNIT_POLYGONS[obj.category]
        ]
        fill = Image.new('L', (w * _SUPERSAMPLE, h * _SUPERSAMPLE), 0)
        ImageDraw.Draw(fill).polygon(points, fill=255)
        edge = Image.new('L', fill.size, 0)
        ImageDraw.Draw(edge).polygon(points, outline=255, width=_SUPERSAMPLE)
        alpha = np.asarray(fill.resize((w, h), Image.BOX), dtype=np.float32)[..., None] / 255
        edge_alpha = np.asarray(edge.resize((w, h), Image.BOX), dtype=np.float32)[..., None]
        edge_alpha = np.minimum(edge_alpha / 255, alpha)  # (h, w, 1), inside the shape only
        colour = np.asarray(COLOURS[obj.colour], dtype=np.float32)
        region = canvas[y1:y2, x1:x2]  # (h, w, 3) view
        region[...] = region * (1 - alpha) + colour * alpha
        region[...] = region * (1 - edge_alpha) + 0.45 * colour * edge_alpha
    # Convex blends of values in [0, 255]: no clipping needed.
    return Image.fromarray(np.rint(canvas).astype(np.uint8), mode='RGB')


def _draw_pictogram(canvas: np.ndarray, obj: SceneObject) -> None:
    """Blend one pictogram into ``canvas`` (H, W, 3) float32, in place."""
    x1, y1, x2, y2 = obj.box_xyxy
    fill, strokes = object_alpha(obj.category, x2 - x1, y2 - y1)  # (h, w) each
    colour = np.broadcast_to(np.asarray(COLOURS[obj.colour], dtype=np.float32), fill.shape + (3,))
    if obj.part_box_xyxy is not None:
        supercategory = concept_chain(obj.category)[-1]
        inside = part_mask(obj.category, (x2 - x1, y2 - y1), PART_WINDOWS[supercategory])
        colour = np.where(inside[..., None], np.asarray(PART_COLOURS[supercategory]), colour)
    region = canvas[y1:y2, x1:x2]  # (h, w, 3) view
    region[...] = region * (1 - fill[..., None]) + colour * fill[..., None]
    region[...] = region * (1 - strokes[..., None]) + 0.45 * colour * strokes[..., None]
