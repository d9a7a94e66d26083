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
from typing import List, Optional, Tuple

from .pictograms import glyph_unit_polygon
from .shapes import PHRASE_TYPE_OF_CATEGORY, UNIT_POLYGONS
from .taxonomy import PHRASE_TYPE_OF_PICTOGRAM

BACKGROUND_KINDS: Tuple[str, ...] = ('gradient', 'stripes', 'checkerboard', 'noise')


@dataclass(frozen=True)
class SceneObject:
    """One shape: what it is and where it is.

    Attributes:
        category: one of :data:`~.shapes.CATEGORIES` (a shape) or of
            :data:`~.taxonomy.PICTOGRAM_CATEGORY_NAMES` (a pictogram, the v2 preset).
        colour: one of :data:`~.shapes.COLOURS`.
        size: ``'small'`` or ``'large'``.
        box_xyxy: (x1, y1, x2, y2) integer pixel box, x2/y2 exclusive (see the module doc).
        part_box_xyxy: the box of the object's telling part (painted in its part colour),
            or None (always None for shapes).
    """

    category: str
    colour: str
    size: str
    box_xyxy: Tuple[int, int, int, int]
    part_box_xyxy: Optional[Tuple[int, int, int, int]] = None

    @property
    def is_pictogram(self) -> bool:
        return self.category in PHRASE_TYPE_OF_PICTOGRAM

    @property
    def phrase_type(self) -> str:
        if self.category in PHRASE_TYPE_OF_CATEGORY:
            return PHRASE_TYPE_OF_CATEGORY[self.category]
        return PHRASE_TYPE_OF_PICTOGRAM[self.category]

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
        if self.is_pictogram:
            unit = glyph_unit_polygon(self.category)
        else:
            unit = UNIT_POLYGONS[self.category]
        return [(x1 + u * w, y1 + v * h) for u, v in unit]


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
