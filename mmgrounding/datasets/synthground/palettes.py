"""The pictogram palette of the v2 preset: categories, context scenes and telling parts.

Two kinds of scene:

- a *context scene* (chance ``context_image_prob``) repeats categories: from its second
  object on, each object copies the category of an earlier one with chance
  ``_CONTEXT_COPY_PROB`` (always for the second), so it holds two or more objects of the same
  category that only an attribute or a relation tells apart. A copy keeps the colour too with
  chance ``identical_look_prob`` (then only the size or a spatial word tells them apart),
  else takes another colour;
- any other scene has no two objects of the same category.

A large object gets a telling part with chance ``part_prob``: the silhouette inside its
supercategory's :data:`~.taxonomy.PART_WINDOWS` window, painted in its
:data:`~.taxonomy.PART_COLOURS` colour (a colour no whole object has).
"""

from __future__ import annotations

import dataclasses
from typing import Sequence, Tuple

import numpy as np

from .pictograms import glyph_aspect_wh, part_box_xyxy
from .scene import SceneObject
from .shapes import COLOURS
from .taxonomy import (
    PART_WINDOWS,
    PICTOGRAM_CATEGORIES,
    SUPERCATEGORY_PHRASE_TYPES,
    concept_chain,
)

_THEME_PROB = 0.6  # a new category comes from the scene's supercategory
_CONTEXT_COPY_PROB = 0.5  # in a context scene, an object after the second repeats a category
_MAX_SAME_LOOK = 2  # at most two objects share colour + category


@dataclasses.dataclass(frozen=True)
class PictogramTheme:
    """Per-scene choices: the supercategory most categories come from, context or not."""

    supercategory: str
    context: bool


@dataclasses.dataclass(frozen=True)
class PictogramPalette:
    """Pictogram objects (see the module doc for the knobs)."""

    context_image_prob: float = 0.5
    identical_look_prob: float = 0.4
    part_prob: float = 0.35

    def sample_theme(self, rng: np.random.Generator) -> PictogramTheme:
        supercategories = tuple(SUPERCATEGORY_PHRASE_TYPES)
        supercategory = supercategories[int(rng.integers(len(supercategories)))]
        return PictogramTheme(supercategory, bool(rng.random() < self.context_image_prob))

    def sample_look(
        self, rng: np.random.Generator, objects: Sequence[SceneObject], theme: PictogramTheme
    ) -> Tuple[str, str]:
        colours = tuple(COLOURS)
        used = {o.category for o in objects}
        if theme.context and objects and (len(objects) == 1 or rng.random() < _CONTEXT_COPY_PROB):
            source = objects[int(rng.integers(len(objects)))]
            same_look = sum(
                (o.category, o.colour) == (source.category, source.colour) for o in objects
            )
            if rng.random() < self.identical_look_prob and same_look < _MAX_SAME_LOOK:
                return source.category, source.colour
            taken = {o.colour for o in objects if o.category == source.category}
            others = [c for c in colours if c not in taken]
            return source.category, others[int(rng.integers(len(others)))]
        themed = [
            c.name
            for c in PICTOGRAM_CATEGORIES
            if c.supercategory == theme.supercategory and c.name not in used
        ]
        pool = themed if themed and rng.random() < _THEME_PROB else None
        if pool is None:
            pool = [c.name for c in PICTOGRAM_CATEGORIES if c.name not in used]
        return pool[int(rng.integers(len(pool)))], colours[int(rng.integers(len(colours)))]

    def aspect_wh(self, category: str) -> float:
        return glyph_aspect_wh(category)

    def finish(self, rng: np.random.Generator, obj: SceneObject) -> SceneObject:
        if obj.size != 'large' or rng.random() >= self.part_prob:
            return obj
        window = PART_WINDOWS[concept_chain(obj.category)[-1]]
        return dataclasses.replace(
            obj, part_box_xyxy=part_box_xyxy(obj.category, obj.box_xyxy, window)
        )
