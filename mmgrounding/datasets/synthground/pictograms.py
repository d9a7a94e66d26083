"""Pictogram masks of the v2 preset, rasterised from the Symbola font with Pillow.

Symbola (Debian package ``fonts-symbola``; ``tools/setup_env.sh`` installs it) draws animals,
vehicles, fruit, instruments, tools, clothing and plants as monochrome line art. Each glyph
of :data:`.taxonomy.PICTOGRAM_CATEGORIES` is rendered once at :data:`GLYPH_PX`, its outline is
closed (a few pixels of morphological closing) and filled, and the result is cropped to its
tight box: the *silhouette* (filled with the object's colour) and the *strokes* (the glyph's
own lines, drawn darker). Resized to an object's box with a box filter, the silhouette
touches all four sides of the box, so every object box is the tight box of its mask.
"""

from __future__ import annotations

import functools
import os
import os.path as osp
from typing import Tuple

import numpy as np
from PIL import Image, ImageFont

from .taxonomy import CATEGORY_BY_NAME

# Where Debian's fonts-symbola puts the font; MMGROUNDING_SYMBOLA_FONT overrides it.
DEFAULT_FONT_PATH = '/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf'
GLYPH_PX = 160  # font size of the master rendering; object boxes are far smaller
_CLOSING_PX = 3  # closes gaps in the line art before the outline is filled
_INK = 64  # glyph coverage (of 255) that counts as ink
_STROKE_PX = 4  # ink farther than this from blank is a solid area, not a stroke


def font_path() -> str:
    """The Symbola font file used (``$MMGROUNDING_SYMBOLA_FONT`` or Debian's path)."""
    return os.environ.get('MMGROUNDING_SYMBOLA_FONT', DEFAULT_FONT_PATH)


@functools.cache
def _font(path: str) -> ImageFont.FreeTypeFont:
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'SynthGround v2 draws its objects from the Symbola font, expected at {path}: '
            'install it with `apt-get install fonts-symbola` (tools/setup_env.sh does), or '
            'point MMGROUNDING_SYMBOLA_FONT at a Symbola .ttf'
        )
    return ImageFont.truetype(path, GLYPH_PX)


@functools.cache
def glyph_masks(category: str) -> Tuple[np.ndarray, np.ndarray]:
    """Silhouette and strokes of a category's glyph, cropped to the silhouette.

    Returns:
        ``(silhouette, strokes)``, both (H, W) bool; strokes lie inside the silhouette and
        are the glyph's lines and the rims (``_STROKE_PX`` wide) of its solid areas.

    Raises:
        FileNotFoundError: the font is missing (the message names its path).
        RuntimeError: the font has no glyph for the category's code point.
    """
    from scipy import ndimage

    entry = CATEGORY_BY_NAME[category]
    path = font_path()
    mask = _font(path).getmask(chr(entry.codepoint))
    ink = np.asarray(mask, dtype=np.uint8).reshape(mask.size[1], mask.size[0]) >= _INK
    if ink.sum() < 50:
        raise RuntimeError(
            f'{path} has no usable glyph U+{entry.codepoint:04X} ({entry.glyph_name}) for '
            f'category {category!r}'
        )
    pad = _CLOSING_PX + 1
    closed = ndimage.binary_closing(
        np.pad(ink, pad), structure=ndimage.generate_binary_structure(2, 1), iterations=_CLOSING_PX
    )[pad:-pad, pad:-pad]
    silhouette = ndimage.binary_fill_holes(closed) | ink
    # Strokes: the glyph's thin lines and the rims of its solid areas (whose insides take the
    # object's colour like the rest of the silhouette).
    solid = ndimage.binary_erosion(ink, iterations=_STROKE_PX, border_value=0)
    strokes = ink & ~solid
    rows, cols = np.flatnonzero(silhouette.any(1)), np.flatnonzero(silhouette.any(0))
    crop = np.s_[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return silhouette[crop], strokes[crop]


def glyph_aspect_wh(category: str) -> float:
    """Width / height of the glyph's tight box."""
    silhouette, _ = glyph_masks(category)
    return silhouette.shape[1] / silhouette.shape[0]


def object_alpha(category: str, width: int, height: int) -> Tuple[np.ndarray, np.ndarray]:
    """Coverage of an object drawn into a ``width`` x ``height`` box.

    Returns:
        ``(fill, strokes)``: (h, w) float32 in [0, 1]; ``strokes <= fill``. ``fill`` is
        positive on the first and last row and column (the box is tight).
    """
    return _object_alpha(category, int(width), int(height))


@functools.lru_cache(maxsize=4096)
def _object_alpha(category: str, width: int, height: int) -> Tuple[np.ndarray, np.ndarray]:
    silhouette, strokes = glyph_masks(category)
    planes = []
    for plane in (silhouette, strokes):
        image = Image.fromarray(plane.astype(np.uint8) * 255, mode='L')
        planes.append(np.asarray(image.resize((width, height), Image.BOX), dtype=np.float32) / 255)
    fill, ink = planes
    fill.setflags(write=False)
    ink = np.minimum(ink, fill)
    ink.setflags(write=False)
    return fill, ink


@functools.cache
def glyph_unit_polygon(category: str) -> Tuple[Tuple[float, float], ...]:
    """Convex hull of the silhouette in the unit square (touching all four sides).

    It is the object's COCO ``segmentation`` polygon, scaled to its box.
    """
    silhouette, _ = glyph_masks(category)
    h, w = silhouette.shape
    # The first and last silhouette pixel of every row hold the hull's vertices.
    rows = np.flatnonzero(silhouette.any(1))
    first = silhouette[rows].argmax(1)
    last = w - 1 - silhouette[rows, ::-1].argmax(1)
    ys, xs = np.concatenate([rows, rows]), np.concatenate([first, last])
    # Corners of those pixels, so the hull covers whole pixels: (4N, 2) (x, y).
    corners = np.concatenate(
        [np.stack([xs + dx, ys + dy], axis=1) for dx in (0, 1) for dy in (0, 1)]
    )
    hull = _convex_hull(np.unique(corners, axis=0))
    return tuple((float(x) / w, float(y) / h) for x, y in hull)


def _convex_hull(points: np.ndarray) -> np.ndarray:
    """Andrew's monotone chain on (N, 2) points sorted by (x, y); (V, 2) counter-clockwise."""
    pts = sorted(map(tuple, points.tolist()))

    def half(sequence):
        chain = []
        for p in sequence:
            while len(chain) >= 2:
                (ax, ay), (bx, by) = chain[-2], chain[-1]
                if (bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax) > 0:
                    break
                chain.pop()
            chain.append(p)
        return chain[:-1]

    return np.asarray(half(pts) + half(reversed(pts)), dtype=np.float64)


def part_box_xyxy(
    category: str, box_xyxy: Tuple[int, int, int, int], window: Tuple[float, float, float, float]
) -> Tuple[int, int, int, int] | None:
    """Tight box of the object's silhouette inside ``window`` (unit coords of its box).

    Returns:
        (x1, y1, x2, y2) integer pixel box, or None when the window holds no silhouette.
    """
    x1, y1, x2, y2 = box_xyxy
    fill, _ = object_alpha(category, x2 - x1, y2 - y1)
    inside = _window_mask(fill.shape, window) & (fill >= 0.5)
    if not inside.any():
        return None
    rows, cols = np.flatnonzero(inside.any(1)), np.flatnonzero(inside.any(0))
    return x1 + int(cols[0]), y1 + int(rows[0]), x1 + int(cols[-1]) + 1, y1 + int(rows[-1]) + 1


def _window_mask(
    shape_hw: Tuple[int, int], window: Tuple[float, float, float, float]
) -> np.ndarray:
    """(h, w) bool: pixels whose centre lies in ``window`` = (u1, v1, u2, v2)."""
    h, w = shape_hw
    u = (np.arange(w) + 0.5) / w
    v = (np.arange(h) + 0.5) / h
    u1, v1, u2, v2 = window
    return ((v >= v1) & (v < v2))[:, None] & ((u >= u1) & (u < u2))[None, :]


def part_mask(
    category: str, box_wh: Tuple[int, int], window: Tuple[float, float, float, float]
) -> np.ndarray:
    """(h, w) bool: the part's pixels in the object's box (the window's share of the glyph)."""
    fill, _ = object_alpha(category, *box_wh)
    return _window_mask(fill.shape, window)
