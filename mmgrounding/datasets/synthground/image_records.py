"""One image of a build, a pure function of (seed, index, config): its split
(:func:`assign_splits`, :func:`refcoco_split`) and its record, scene and text
(:func:`generate_image_record`), each drawn from its own random stream."""

from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np

from .language import generate_captions
from .lexicon import SHAPE_LEXICON, HierarchyLexicon, ShapeLexicon
from .options import SynthGroundConfig
from .palettes import PictogramPalette
from .record import ImageRecord
from .referring import generate_referring_expressions, generate_region_descriptions
from .relations import pairwise_relations
from .sampling import SHAPE_PALETTE, Palette, sample_scene
from .scene import Scene
from .taxonomy import PICTOGRAM_TESTA_PHRASE_TYPE

IMAGE_ID_START = 1000001  # image ids are IMAGE_ID_START + index
REFCOCO_TEST_RULE = (
    'testA: test images in which strictly more than half of the objects have '
    "phrase type 'round'; testB: the other test images"
)
REFCOCO_TEST_RULE_V2 = REFCOCO_TEST_RULE.replace("'round'", f"'{PICTOGRAM_TESTA_PHRASE_TYPE}'")
# Independent random streams per image: numpy.random.default_rng((seed, stream, index)).
SCENE_STREAM, LANGUAGE_STREAM, SPLIT_STREAM, REFERIT_SPLIT_STREAM = 0, 1, 2, 3


def assign_splits(
    num_images: int,
    *,
    seed: int,
    fractions: Sequence[float] = (0.8, 0.07, 0.13),
    stream: int = SPLIT_STREAM,
) -> List[str]:
    """Image-level split of every index: exact counts, shuffled by the seed.

    ``round(n * fraction)`` images go to val and to test (at least one each when n >= 3 and
    the fraction is positive), the rest to train.

    Returns:
        (num_images,) split names.
    """
    counts = [round(num_images * f) for f in fractions[1:]]
    if num_images >= 3:
        counts = [max(1, c) if f > 0 else c for c, f in zip(counts, fractions[1:])]
    num_val, num_test = counts
    order = np.random.default_rng((seed, stream)).permutation(num_images)
    splits = ['train'] * num_images
    for rank, index in enumerate(order):
        if rank < num_val:
            splits[int(index)] = 'val'
        elif rank < num_val + num_test:
            splits[int(index)] = 'test'
    return splits


def refcoco_split(split: str, scene: Scene, *, testa_phrase_type: str = 'round') -> str:
    """RefCOCO unc-style split: train/val unchanged; test divided by :data:`REFCOCO_TEST_RULE`.

    ``testa_phrase_type`` is the type that makes an image testA (v2: ``'animals'``).
    """
    if split != 'test':
        return split
    num_typed = sum(o.phrase_type == testa_phrase_type for o in scene.objects)
    return 'testA' if 2 * num_typed > len(scene.objects) else 'testB'


def _palette_and_lexicon(config: SynthGroundConfig) -> Tuple[Palette, ShapeLexicon]:
    """What the objects are and how they are named, from ``config.objects``."""
    if config.objects == 'shapes':
        return SHAPE_PALETTE, SHAPE_LEXICON
    palette = PictogramPalette(
        context_image_prob=config.context_image_prob,
        identical_look_prob=config.identical_look_prob,
        part_prob=config.part_prob,
    )
    return palette, HierarchyLexicon(relational_first_prob=config.relational_first_prob)


def generate_image_record(
    index: int, *, seed: int, split: str, config: SynthGroundConfig = SynthGroundConfig()
) -> ImageRecord:
    """Generate one image's scene and text; a pure function of (seed, index, config)."""
    palette, lexicon = _palette_and_lexicon(config)
    rng = np.random.default_rng((seed, SCENE_STREAM, index))
    size_wh = tuple(config.image_sizes_wh[int(rng.integers(len(config.image_sizes_wh)))])
    scene = sample_scene(
        rng,
        size_wh=size_wh,
        num_objects=int(rng.integers(config.min_objects, config.max_objects + 1)),
        small_side_px=config.small_side_px,
        large_side_px=config.large_side_px,
        min_visible=config.min_visible,
        palette=palette,
    )
    text_rng = np.random.default_rng((seed, LANGUAGE_STREAM, index))
    captions, entities = generate_captions(
        scene,
        text_rng,
        num_captions=int(text_rng.integers(config.min_captions, config.max_captions + 1)),
        scene_phrase_prob=config.scene_phrase_prob,
        notvisual_prob=config.notvisual_prob,
        lexicon=lexicon,
    )
    expressions = generate_referring_expressions(
        scene, text_rng, max_per_object=config.max_refs_per_object, lexicon=lexicon
    )
    testa_type = 'round' if config.objects == 'shapes' else PICTOGRAM_TESTA_PHRASE_TYPE
    return ImageRecord(
        index=index,
        image_id=IMAGE_ID_START + index,
        split=split,
        refcoco_split=refcoco_split(split, scene, testa_phrase_type=testa_type),
        scene=scene,
        captions=tuple(captions),
        entities=entities,
        referring_expressions=tuple(tuple(e) for e in expressions),
        regions=tuple(generate_region_descriptions(scene, text_rng)),
        relationships=tuple(pairwise_relations(scene)),
    )
