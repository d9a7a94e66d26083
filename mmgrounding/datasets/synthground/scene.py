"""The SynthGround scene: what one image shows, as plain frozen data.

A scene is a textured, muted background with 2-6 vivid shapes on it. Boxes are integer XYXY
in continuous pixel coordinates: an object with ``box_xyxy = (x1, y1, x2, y2)`` covers pixel
columns ``x1 .. x2 - 1`` and rows ``y1 .. y2 - 1`` (0-based), so its COCO box is
``[x1, y1, x2 - x1, y2 - y1]`` and its Flickr30k box (1-based, inclusive) is
``(x1 + 1, y1 + 1, x2, y2)``. The box is tight around the drawn shape.

Scenes are sampled by :func:`.sampling.sample_scene`, drawn by :func:`.rendering.render_scene`
and described through :mod:`.relations`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple

from .shapes import PHRASE_TYPE_OF_CATEGORY, UNIT_POLYGONS

BACKGROUND_KINDS: Tuple[str, ...] = ('gradient', 'stripes', 'checkerboard', 'noise')


@dataclass(frozen=True)
class SceneObject:
    """One shape: what it is and where it is.

    Attributes:
        category: one of :data:`~.shapes.CATEGORIES`.
        colour: one of :data:`~.shapes.COLOURS`.
        size: ``'small'`` or ``'large'``.
        box_xyxy: (x1, y1, x2, y2) integer pixel box, x2/y2 exclusive (see the module doc).
    """

    category: str
    colour: str
    size: str
    box_xyxy: Tuple[int, int, int, int]

    @property
    def phrase_type(self) -> str:
        return PHRASE_TYPE_OF_CATEGORY[self.category]

    @property
    def box_xywh(self) -> Tuple[int, int, int, int]:
        x1, y1, x2, y2 = self.box_xyxy
        return x1, y1, x2 - x1, y2 - y1

    @property
    def centre_xy(self) -> Tuple[float, float]:
        x1, y1, x2, y2 = self.box_xyxy
        return (x1 + x2) / 2.0, (y1 + y2) / 2.0

    def outline_xy(self) -> List[Tuple[float, float]]:
        """The drawn outline as a polygon in continuous pixel coordinates, tight to the box."""
        x1, y1, x2, y2 = self.box_xyxy
        w, h = x2 - x1, y2 - y1
        return [(x1 + u * w, y1 + v * h) for u, v in UNIT_POLYGONS[self.category]]


@dataclass(frozen=True)
class Background:
    """A procedural background: its kind and the seed its pixels are drawn from."""

    kind: str
    seed: int


@dataclass(frozen=True)
class Scene:
    """An image's content. Objects are listed in drawing order (later ones on top)."""

    width: int
    height: int
    background: Background
    objects: Tuple[SceneObject, ...]
