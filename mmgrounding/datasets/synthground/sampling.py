"""Sampling a scene: its background, the look of every object and where it is placed.

Everything random comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

from typing import List, Optional, Protocol, Sequence, Tuple

import numpy as np

from .relations import min_separation_px
from .scene import BACKGROUND_KINDS, Background, Scene, SceneObject
from .shapes import ASPECT_WH, CATEGORIES, COLOURS, PHRASE_TYPE_OF_CATEGORY, PHRASE_TYPES, SIZES

DEFAULT_IMAGE_SIZES_WH: Tuple[Tuple[int, int], ...] = (
    (160, 120),
    (128, 128),
    (120, 160),
    (192, 144),
    (144, 192),
)
# Longer box side of small / large objects on a 128 px image; scaled by min(W, H) / 128.
REFERENCE_SIDE_PX = 128
DEFAULT_SMALL_SIDE_PX: Tuple[int, int] = (14, 22)
DEFAULT_LARGE_SIDE_PX: Tuple[int, int] = (32, 48)
MIN_BOX_SIDE_PX = 8

_THEME_PROB = 0.6  # an object's category comes from the scene's theme type
_DUPLICATE_PROB = 0.25  # an object copies colour + category of an earlier one
_MAX_SAME_LOOK = 2  # at most two objects share colour + category


class Palette(Protocol):
    """What a scene's objects can be: categories, colours and their random choice."""

    def sample_theme(self, rng: np.random.Generator) -> object:
        """The per-scene choice the looks depend on (drawn after the background)."""

    def sample_look(
        self, rng: np.random.Generator, objects: Sequence[SceneObject], theme: object
    ) -> Tuple[str, str]:
        """(category, colour) of the next object."""

    def aspect_wh(self, category: str) -> float:
        """Box aspect ratio w / h of a category."""

    def finish(self, rng: np.random.Generator, obj: SceneObject) -> SceneObject:
        """The placed object, possibly with more detail (a part)."""


class ShapePalette:
    """The shapes of the default build: a theme phrase type, look-alikes, no parts."""

    def sample_theme(self, rng: np.random.Generator) -> str:
        return PHRASE_TYPES[int(rng.integers(len(PHRASE_TYPES)))]

    def sample_look(
        self, rng: np.random.Generator, objects: Sequence[SceneObject], theme: str
    ) -> Tuple[str, str]:
        return _sample_look(rng, objects, theme)

    def aspect_wh(self, category: str) -> float:
        return ASPECT_WH[category]

    def finish(self, rng: np.random.Generator, obj: SceneObject) -> SceneObject:
        return obj


SHAPE_PALETTE = ShapePalette()


def sample_scene(
    rng: np.random.Generator,
    *,
    size_wh: Tuple[int, int],
    num_objects: int,
    small_side_px: Tuple[int, int] = DEFAULT_SMALL_SIDE_PX,
    large_side_px: Tuple[int, int] = DEFAULT_LARGE_SIDE_PX,
    min_visible: float = 0.6,
    max_tries: int = 30,
    palette: Palette = SHAPE_PALETTE,
) -> Scene:
    """Sample a background and up to ``num_objects`` non-hiding objects.

    Each scene has a theme type (see :data:`PHRASE_TYPES`) that most of its categories come
    from, and some objects repeat the colour and category of an earlier one, so scenes have
    look-alikes that need spatial words. Placement is rejected (and retried up to
    ``max_tries`` times, then once more as a small object) when it would leave less than
    ``min_visible`` of an earlier box uncovered, or when it would put two objects of the same
    size, colour and category closer than the minimum separation on both axes. An object that
    cannot be placed is dropped, so a crowded scene may hold fewer objects than asked.

    Args:
        rng: the only source of randomness.
        size_wh: image (W, H) in pixels.
        num_objects: objects to place.
        small_side_px: (min, max) longer box side of small objects at 128 px scale.
        large_side_px: (min, max) longer box side of large objects at 128 px scale.
        min_visible: smallest uncovered fraction of every box.
        max_tries: placement attempts per object and size.
        palette: the categories and colours (default: the shapes); its ``finish`` sees every
            placed object (the pictogram palette adds parts there).

    Returns:
        The scene; its objects are in drawing order.
    """
    width, height = size_wh
    scale = min(width, height) / REFERENCE_SIDE_PX
    min_sep = min_separation_px(width, height)
    background = Background(
        kind=BACKGROUND_KINDS[int(rng.integers(len(BACKGROUND_KINDS)))],
        seed=int(rng.integers(2**62)),
    )
    theme = palette.sample_theme(rng)
    objects: List[SceneObject] = []
    covered: List[np.ndarray] = []  # per placed object: (h, w) bool, covered by later boxes
    for _ in range(num_objects):
        category, colour = palette.sample_look(rng, objects, theme)
        size = SIZES[int(rng.integers(len(SIZES)))]
        sizes_to_try = (size, 'small') if size == 'large' else (size,)
        placed = None
        for try_size in sizes_to_try:
            side_range = small_side_px if try_size == 'small' else large_side_px
            lo = max(MIN_BOX_SIDE_PX, round(side_range[0] * scale))
            hi = max(lo, round(side_range[1] * scale))
            for _ in range(max_tries):
                w, h = _box_wh(palette.aspect_wh(category), int(rng.integers(lo, hi + 1)))
                w, h = min(w, width), min(h, height)
                x1 = int(rng.integers(0, width - w + 1))
                y1 = int(rng.integers(0, height - h + 1))
                candidate = SceneObject(category, colour, try_size, (x1, y1, x1 + w, y1 + h))
                if _placement_ok(
                    candidate, objects, covered, min_visible=min_visible, min_sep=min_sep
                ):
                    placed = candidate
                    break
            if placed is not None:
                break
        if placed is None:
            continue
        placed = palette.finish(rng, placed)
        for other, mask in zip(objects, covered):
            _cover(mask, other.box_xyxy, placed.box_xyxy)
        objects.append(placed)
        covered.append(
            np.zeros(
                (placed.box_xyxy[3] - placed.box_xyxy[1], placed.box_xyxy[2] - placed.box_xyxy[0]),
                dtype=bool,
            )
        )
    return Scene(width=width, height=height, background=background, objects=tuple(objects))


def _sample_look(
    rng: np.random.Generator, objects: Sequence[SceneObject], theme: str
) -> Tuple[str, str]:
    """Category and colour of the next object; at most two objects share both."""
    colours = tuple(COLOURS)
    themed = tuple(c for c in CATEGORIES if PHRASE_TYPE_OF_CATEGORY[c] == theme)
    for _ in range(20):
        if objects and rng.random() < _DUPLICATE_PROB:
            source = objects[int(rng.integers(len(objects)))]
            category, colour = source.category, source.colour
        else:
            pool = themed if rng.random() < _THEME_PROB else CATEGORIES
            category = pool[int(rng.integers(len(pool)))]
            colour = colours[int(rng.integers(len(colours)))]
        same = sum(o.category == category and o.colour == colour for o in objects)
        if same < _MAX_SAME_LOOK:
            return category, colour
    # Practically unreachable (54 looks, at most 5 placed objects): first unused look.
    used = {(o.category, o.colour) for o in objects}
    return next((c, k) for c in CATEGORIES for k in colours if (c, k) not in used)


def _box_wh(aspect: float, side: int) -> Tuple[int, int]:
    """Box (w, h) of a shape whose longer side is ``side`` px, keeping its aspect ``w / h``."""
    if aspect >= 1.0:
        w, h = side, round(side / aspect)
    else:
        w, h = round(side * aspect), side
    return max(MIN_BOX_SIDE_PX, w), max(MIN_BOX_SIDE_PX, h)


def _intersection(
    a_xyxy: Sequence[int], b_xyxy: Sequence[int]
) -> Optional[Tuple[int, int, int, int]]:
    x1, y1 = max(a_xyxy[0], b_xyxy[0]), max(a_xyxy[1], b_xyxy[1])
    x2, y2 = min(a_xyxy[2], b_xyxy[2]), min(a_xyxy[3], b_xyxy[3])
    return (x1, y1, x2, y2) if x1 < x2 and y1 < y2 else None


def _cover(mask: np.ndarray, box_xyxy: Sequence[int], cover_xyxy: Sequence[int]) -> None:
    """Mark the part of ``box_xyxy`` under ``cover_xyxy`` in ``mask`` (h, w), in place."""
    inter = _intersection(box_xyxy, cover_xyxy)
    if inter is not None:
        x1, y1, x2, y2 = inter
        mask[y1 - box_xyxy[1] : y2 - box_xyxy[1], x1 - box_xyxy[0] : x2 - box_xyxy[0]] = True


def _placement_ok(
    candidate: SceneObject,
    objects: Sequence[SceneObject],
    covered: Sequence[np.ndarray],
    *,
    min_visible: float,
    min_sep: float,
) -> bool:
    cx, cy = candidate.centre_xy
    for other, mask in zip(objects, covered):
        if (other.category, other.colour, other.size) == (
            candidate.category,
            candidate.colour,
            candidate.size,
        ):
            ox, oy = other.centre_xy
            if abs(cx - ox) < min_sep and abs(cy - oy) < min_sep:
                return False  # indistinguishable twins: no spatial word could tell them apart
        if _intersection(other.box_xyxy, candidate.box_xyxy) is None:
            continue
        trial = mask.copy()
        _cover(trial, other.box_xyxy, candidate.box_xyxy)
        if 1.0 - trial.mean() < min_visible:
            return False
    return True
