"""Build a SynthGround dataset: sample every image, render it, write every format."""

from __future__ import annotations

import os
import os.path as osp
from dataclasses import asdict, dataclass
from typing import List, Sequence, Tuple

import numpy as np

from . import writers
from .language import (
    generate_captions,
)
from .record import ImageRecord
from .referring import (
    generate_referring_expressions,
    generate_region_descriptions,
)
from .relations import pairwise_relations
from .rendering import render_scene
from .sampling import (
    DEFAULT_IMAGE_SIZES_WH,
    DEFAULT_LARGE_SIDE_PX,
    DEFAULT_SMALL_SIDE_PX,
    sample_scene,
)
from .scene import BACKGROUND_KINDS, Scene
from .shapes import CATEGORIES, COLOURS, PHRASE_TYPE_OF_CATEGORY, SIZES
from .writers import REFCOCO_SPLITS, SPLITS  # noqa: F401 (re-exported)

GENERATOR_VERSION = '1.0.0'
IMAGE_ID_START = 1000001  # image ids are IMAGE_ID_START + index
REFCOCO_TEST_RULE = (
    'testA: test images in which strictly more than half of the objects have '
    "phrase type 'round'; testB: the other test images"
)
JPEG_QUALITY = 90
MAX_OBJECTS = 9  # ann_id = index * 10 + object index + 1 needs fewer than 10 per image
# Independent random streams per image: numpy.random.default_rng((seed, stream, index)).
_SCENE_STREAM, _LANGUAGE_STREAM, _SPLIT_STREAM = 0, 1, 2


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


def assign_splits(
    num_images: int, *, seed: int, fractions: Sequence[float] = (0.8, 0.07, 0.13)
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
    order = np.random.default_rng((seed, _SPLIT_STREAM)).permutation(num_images)
    splits = ['train'] * num_images
    for rank, index in enumerate(order):
        if rank < num_val:
            splits[int(index)] = 'val'
        elif rank < num_val + num_test:
            splits[int(index)] = 'test'
    return splits


def refcoco_split(split: str, scene: Scene) -> str:
    """RefCOCO unc-style split: train/val unchanged; test divided by :data:`REFCOCO_TEST_RULE`."""
    if split != 'test':
        return split
    num_round = sum(o.phrase_type == 'round' for o in scene.objects)
    return 'testA' if 2 * num_round > len(scene.objects) else 'testB'


def generate_image_record(
    index: int, *, seed: int, split: str, config: SynthGroundConfig = SynthGroundConfig()
) -> ImageRecord:
    """Generate one image's scene and text; a pure function of (seed, index, config)."""
    rng = np.random.default_rng((seed, _SCENE_STREAM, index))
    size_wh = tuple(config.image_sizes_wh[int(rng.integers(len(config.image_sizes_wh)))])
    scene = sample_scene(
        rng,
        size_wh=size_wh,
        num_objects=int(rng.integers(config.min_objects, config.max_objects + 1)),
        small_side_px=config.small_side_px,
        large_side_px=config.large_side_px,
        min_visible=config.min_visible,
    )
    text_rng = np.random.default_rng((seed, _LANGUAGE_STREAM, index))
    captions, entities = generate_captions(
        scene,
        text_rng,
        num_captions=int(text_rng.integers(config.min_captions, config.max_captions + 1)),
        scene_phrase_prob=config.scene_phrase_prob,
        notvisual_prob=config.notvisual_prob,
    )
    expressions = generate_referring_expressions(
        scene, text_rng, max_per_object=config.max_refs_per_object
    )
    return ImageRecord(
        index=index,
        image_id=IMAGE_ID_START + index,
        split=split,
        refcoco_split=refcoco_split(split, scene),
        scene=scene,
        captions=tuple(captions),
        entities=entities,
        referring_expressions=tuple(tuple(e) for e in expressions),
        regions=tuple(generate_region_descriptions(scene, text_rng)),
        relationships=tuple(pairwise_relations(scene)),
    )


def build_synthground(
    out_dir: str,
    *,
    seed: int = 0,
    num_images: int = 1500,
    image_sizes_wh: Sequence[Tuple[int, int]] = DEFAULT_IMAGE_SIZES_WH,
    min_objects: int = 2,
    max_objects: int = 6,
    min_captions: int = 3,
    max_captions: int = 5,
    small_side_px: Tuple[int, int] = DEFAULT_SMALL_SIDE_PX,
    large_side_px: Tuple[int, int] = DEFAULT_LARGE_SIDE_PX,
    min_visible: float = 0.6,
    split_fractions: Sequence[float] = (0.8, 0.07, 0.13),
    scene_phrase_prob: float = 0.15,
    notvisual_prob: float = 0.04,
    max_refs_per_object: int = 3,
) -> dict:
    """Generate SynthGround into ``out_dir`` (layout and formats: ``docs/synthground.md``).

    The output is byte-for-byte the same for the same arguments (``out_dir`` aside). A
    previous SynthGround build in ``out_dir`` (recognised by its ``meta.json``) is replaced;
    any other non-empty folder is refused.

    Args:
        out_dir: output folder, e.g. ``data/synthground``.
        seed: non-negative random seed.
        num_images: images to generate.
        image_sizes_wh: (W, H) choices of the image size, each side >= 64.
        min_objects: fewest objects asked per image (a crowded image may place fewer).
        max_objects: most objects per image (<= 9).
        min_captions: fewest captions per image.
        max_captions: most captions per image.
        small_side_px: (min, max) longer box side of small objects at 128 px scale.
        large_side_px: (min, max) longer box side of large objects at 128 px scale.
        min_visible: smallest uncovered fraction of every object's box.
        split_fractions: (train, val, test) image fractions.
        scene_phrase_prob: chance that a caption has a scene phrase (no box).
        notvisual_prob: chance that a caption has a notvisual phrase (entity 0).
        max_refs_per_object: most referring expressions per object (at least 1).

    Returns:
        The counts also written to ``meta.json['counts']``.
    """
    if seed < 0 or num_images < 1:
        raise ValueError(f'need seed >= 0 and num_images >= 1, got {seed}, {num_images}')
    config = SynthGroundConfig(
        image_sizes_wh=tuple(tuple(int(v) for v in s) for s in image_sizes_wh),
        min_objects=min_objects,
        max_objects=max_objects,
        min_captions=min_captions,
        max_captions=max_captions,
        small_side_px=tuple(small_side_px),
        large_side_px=tuple(large_side_px),
        min_visible=min_visible,
        split_fractions=tuple(float(f) for f in split_fractions),
        scene_phrase_prob=scene_phrase_prob,
        notvisual_prob=notvisual_prob,
        max_refs_per_object=max_refs_per_object,
    )
    config.validate()
    _prepare_out_dir(out_dir)
    image_dir = osp.join(out_dir, 'images')
    os.makedirs(image_dir, exist_ok=True)
    splits = assign_splits(num_images, seed=seed, fractions=config.split_fractions)
    records = []
    for index in range(num_images):
        record = generate_image_record(index, seed=seed, split=splits[index], config=config)
        render_scene(record.scene).save(
            osp.join(image_dir, record.file_name), format='JPEG', quality=JPEG_QUALITY
        )
        records.append(record)
    counts = {
        'images': writers.count_images(records),
        'flickr30k_entities': writers.write_flickr30k_entities(out_dir, records),
        'refcoco': writers.write_refcoco(out_dir, records),
        'vg': writers.write_visual_genome(out_dir, records),
        'coco_captions': writers.write_coco_captions(out_dir, records, version=GENERATOR_VERSION),
    }
    arguments = dict(seed=seed, num_images=num_images, **asdict(config))
    meta = {
        'name': 'SynthGround',
        'generator_version': GENERATOR_VERSION,
        'arguments': arguments,
        'image_id_start': IMAGE_ID_START,
        'categories': list(CATEGORIES),
        'colours': {name: list(rgb) for name, rgb in COLOURS.items()},
        'sizes': list(SIZES),
        'background_kinds': list(BACKGROUND_KINDS),
        'phrase_type_of_category': dict(PHRASE_TYPE_OF_CATEGORY),
        'refcoco_test_rule': REFCOCO_TEST_RULE,
        'counts': counts,
    }
    writers.write_json(osp.join(out_dir, 'meta.json'), meta, indent=2)
    return counts


def _prepare_out_dir(out_dir: str) -> None:
    """Create ``out_dir``, or clear the files of an earlier SynthGround build in it."""
    if not osp.isdir(out_dir):
        os.makedirs(out_dir)
        return
    if not os.listdir(out_dir):
        return
    if not osp.isfile(osp.join(out_dir, 'meta.json')):
        raise FileExistsError(
            f'{out_dir} is not empty and holds no SynthGround build '
            '(no meta.json); choose an empty or new folder'
        )
    stale = [
        ('images', '.jpg'),
        ('flickr30k_entities/Annotations', '.xml'),
        ('flickr30k_entities/Sentences', '.txt'),
    ]
    for sub_dir, suffix in stale:
        folder = osp.join(out_dir, sub_dir)
        if osp.isdir(folder):
            for name in sorted(os.listdir(folder)):
                if name.endswith(suffix):
                    os.remove(osp.join(folder, name))
