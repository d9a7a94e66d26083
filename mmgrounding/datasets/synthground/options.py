"""The generator's options: :class:`SynthGroundConfig`, the options the v2 preset added
(:data:`V2_OPTIONS`), the named presets (:data:`PRESETS`) and :func:`resolve_options`, which
turns a preset and explicit options into a config."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Dict, Tuple

import numpy as np

from .sampling import DEFAULT_IMAGE_SIZES_WH, DEFAULT_LARGE_SIDE_PX, DEFAULT_SMALL_SIDE_PX

MAX_OBJECTS = 9  # ann_id = index * 10 + object index + 1 needs fewer than 10 per image


@dataclass(frozen=True)
class SynthGroundConfig:
    """Generator options besides the seed and the number of images (see ``docs``)."""

    image_sizes_wh: Tuple[Tuple[int, int], ...] = DEFAULT_IMAGE_SIZES_WH
    min_objects: int = 2
    max_objects: int = 6
    min_captions: int = 3
    max_captions: int = 5
    small_side_px: Tuple[int, int] = DEFAULT_SMALL_SIDE_PX
    large_side_px: Tuple[int, int] = DEFAULT_LARGE_SIDE_PX
    min_visible: float = 0.6
    split_fractions: Tuple[float, float, float] = (0.8, 0.07, 0.13)
    scene_phrase_prob: float = 0.15
    notvisual_prob: float = 0.04
    max_refs_per_object: int = 3
    # The v2 preset's options (docs/synthground.md, "v2 preset"); these defaults are v1's (the
    # dataclass defaults are the v1 options: build_synthground's default preset, v2, sets them).
    objects: str = 'shapes'
    context_image_prob: float = 0.0
    identical_look_prob: float = 0.0
    part_prob: float = 0.0
    relational_first_prob: float = 0.0
    referit_num_images: int = 0
    referit_split_fractions: Tuple[float, float, float] = (0.4, 0.1, 0.5)

    @property
    def is_v1(self) -> bool:
        """Whether only options of the default (v1) build are used."""
        v1 = SynthGroundConfig()
        return all(getattr(self, name) == getattr(v1, name) for name in V2_OPTIONS)

    def validate(self) -> None:
        """Raise ValueError on options the generator cannot honour."""
        if not self.image_sizes_wh or any(min(s) < 64 or len(s) != 2 for s in self.image_sizes_wh):
            raise ValueError(f'image_sizes_wh must be (W, H) pairs >= 64 px: {self.image_sizes_wh}')
        if not 1 <= self.min_objects <= self.max_objects <= MAX_OBJECTS:
            raise ValueError(f'need 1 <= min_objects <= max_objects <= {MAX_OBJECTS}')
        if not 1 <= self.min_captions <= self.max_captions:
            raise ValueError('need 1 <= min_captions <= max_captions')
        if (
            len(self.split_fractions) != 3
            or min(self.split_fractions) < 0
            or not np.isclose(sum(self.split_fractions), 1.0)
        ):
            raise ValueError(
                f'split_fractions (train, val, test) must be >= 0 and sum to 1: '
                f'{self.split_fractions}'
            )
        if not 0.0 < self.min_visible <= 1.0:
            raise ValueError('min_visible must be in (0, 1]')
        if self.objects not in ('shapes', 'pictograms'):
            raise ValueError(f"objects must be 'shapes' or 'pictograms', got {self.objects!r}")
        pictogram_knobs = ('context_image_prob', 'identical_look_prob', 'part_prob')
        for name in pictogram_knobs + ('relational_first_prob',):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f'{name} must be in [0, 1], got {getattr(self, name)}')
        if self.objects == 'shapes' and any(getattr(self, n) for n in pictogram_knobs):
            raise ValueError(f"{', '.join(pictogram_knobs)} need objects='pictograms'")
        if self.referit_num_images < 0:
            raise ValueError('referit_num_images must be >= 0')
        fractions = self.referit_split_fractions
        if len(fractions) != 3 or min(fractions) < 0 or not np.isclose(sum(fractions), 1.0):
            raise ValueError(f'referit_split_fractions must be >= 0 and sum to 1: {fractions}')


# Options added by the v2 preset; a build that leaves them at these defaults is a v1 build and
# its files (meta.json included) are byte-identical to those of the generator before them.
V2_OPTIONS: Tuple[str, ...] = (
    'objects',
    'context_image_prob',
    'identical_look_prob',
    'part_prob',
    'relational_first_prob',
    'referit_num_images',
    'referit_split_fractions',
)
# Named option sets of build_synthground; an explicit option overrides its preset's value.
# 'referit_fraction' gives referit_num_images = round(fraction * num_images).
PRESETS: Dict[str, Dict[str, object]] = {
    'v1': {},
    'v2': dict(
        objects='pictograms',
        small_side_px=(18, 26),
        large_side_px=(36, 56),
        context_image_prob=0.5,
        identical_look_prob=0.6,
        part_prob=0.35,
        relational_first_prob=0.7,
        referit_fraction=0.2,
    ),
}


def resolve_options(preset: str, num_images: int, options: Dict[str, object]) -> SynthGroundConfig:
    """The config of a preset with explicit (non-None) ``options`` on top.

    Raises:
        ValueError: an unknown preset or option.
    """
    if preset not in PRESETS:
        raise ValueError(f'unknown SynthGround preset {preset!r}; presets: {sorted(PRESETS)}')
    names = {f.name for f in fields(SynthGroundConfig)}
    unknown = sorted(set(options) - names)
    if unknown:
        raise ValueError(f'unknown SynthGround options {unknown}; options: {sorted(names)}')
    values = dict(PRESETS[preset])
    referit_fraction = values.pop('referit_fraction', None)
    if referit_fraction is not None:
        values['referit_num_images'] = round(float(referit_fraction) * num_images)
    values.update({k: v for k, v in options.items() if v is not None})
    if 'image_sizes_wh' in values:
        values['image_sizes_wh'] = tuple(tuple(int(v) for v in s) for s in values['image_sizes_wh'])
    for name in ('small_side_px', 'large_side_px'):
        if name in values:
            values[name] = tuple(int(v) for v in values[name])
    for name in ('split_fractions', 'referit_split_fractions'):
        if name in values:
            values[name] = tuple(float(f) for f in values[name])
    return replace(SynthGroundConfig(), **values)
