"""Build a SynthGround dataset: sample every image, render it, write every format."""

from __future__ import annotations

import json
import os
import os.path as osp
import shutil
from dataclasses import asdict, dataclass, fields, replace
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import writers
from .language import (
    generate_captions,
)
from .lexicon import SHAPE_LEXICON, HierarchyLexicon, ShapeLexicon
from .palettes import PictogramPalette
from .pictograms import font_path
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
    SHAPE_PALETTE,
    Palette,
    sample_scene,
)
from .scene import BACKGROUND_KINDS, Scene
from .shapes import CATEGORIES, COLOURS, PHRASE_TYPE_OF_CATEGORY, SIZES
from .taxonomy import (
    PART_COLOURS,
    PART_WINDOWS,
    PHRASE_TYPE_OF_PICTOGRAM,
    PICTOGRAM_CATEGORIES,
    PICTOGRAM_CATEGORY_NAMES,
    PICTOGRAM_TESTA_PHRASE_TYPE,
    SUPERCATEGORY_PHRASE_TYPES,
)
from .writers import REFCOCO_SPLITS, SPLITS  # noqa: F401 (re-exported)

GENERATOR_VERSION = '1.0.0'
GENERATOR_VERSION_V2 = '2.0.0'  # the v2 preset (pictograms, context scenes, parts, ReferIt)
IMAGE_ID_START = 1000001  # image ids are IMAGE_ID_START + index
REFCOCO_TEST_RULE = (
    'testA: test images in which strictly more than half of the objects have '
    "phrase type 'round'; testB: the other test images"
)
REFCOCO_TEST_RULE_V2 = REFCOCO_TEST_RULE.replace("'round'", f"'{PICTOGRAM_TESTA_PHRASE_TYPE}'")
CONTEXT_RULE = (
    'a referring expression or caption phrase is context-dependent when it names one object '
    'and the image holds another object of the same category, so only an attribute (colour, '
    'size) or a spatial relation tells them apart'
)
JPEG_QUALITY = 90
MAX_OBJECTS = 9  # ann_id = index * 10 + object index + 1 needs fewer than 10 per image
# Independent random streams per image: numpy.random.default_rng((seed, stream, index)).
_SCENE_STREAM, _LANGUAGE_STREAM, _SPLIT_STREAM, _REFERIT_SPLIT_STREAM = 0, 1, 2, 3
# The ReferIt split's own images have indices from here on (image ids from 2000001).
REFERIT_INDEX_START = 1_000_000


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


def assign_splits(
    num_images: int,
    *,
    seed: int,
    fractions: Sequence[float] = (0.8, 0.07, 0.13),
    stream: int = _SPLIT_STREAM,
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
    rng = np.random.default_rng((seed, _SCENE_STREAM, index))
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
    text_rng = np.random.default_rng((seed, _LANGUAGE_STREAM, index))
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


def build_synthground(
    out_dir: str,
    *,
    preset: str = 'v2',
    seed: int = 0,
    num_images: int = 1500,
    image_sizes_wh: Optional[Sequence[Tuple[int, int]]] = None,
    min_objects: Optional[int] = None,
    max_objects: Optional[int] = None,
    min_captions: Optional[int] = None,
    max_captions: Optional[int] = None,
    small_side_px: Optional[Tuple[int, int]] = None,
    large_side_px: Optional[Tuple[int, int]] = None,
    min_visible: Optional[float] = None,
    split_fractions: Optional[Sequence[float]] = None,
    scene_phrase_prob: Optional[float] = None,
    notvisual_prob: Optional[float] = None,
    max_refs_per_object: Optional[int] = None,
    objects: Optional[str] = None,
    context_image_prob: Optional[float] = None,
    identical_look_prob: Optional[float] = None,
    part_prob: Optional[float] = None,
    relational_first_prob: Optional[float] = None,
    referit_num_images: Optional[int] = None,
    referit_split_fractions: Optional[Sequence[float]] = None,
) -> dict:
    """Generate SynthGround into ``out_dir`` (layout and formats: ``docs/synthground.md``).

    The output is byte-for-byte the same for the same arguments (``out_dir`` aside). A
    previous SynthGround build in ``out_dir`` (recognised by its ``meta.json``) is replaced;
    any other non-empty folder is refused. Every option left at None takes the value of the
    preset (:data:`PRESETS`): ``'v2'``, the default (pictograms under a WordNet hierarchy,
    context scenes, telling parts, a ReferIt split of its own), or ``'v1'``, the 9-shape build
    of generator 1.0.0 (byte-identical to the files it wrote before presets existed).

    Args:
        out_dir: output folder, e.g. ``data/synthground``.
        preset: ``'v2'`` (the default) or ``'v1'``.
        seed: non-negative random seed.
        num_images: images to generate (besides the ReferIt split's own).
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
        objects: ``'pictograms'`` (v2; needs the Symbola font) or ``'shapes'`` (v1).
        context_image_prob: chance that an image repeats categories (pictograms only).
        identical_look_prob: chance that a repeated category keeps the colour too.
        part_prob: chance that a large pictogram has a telling part.
        relational_first_prob: chance that an object no attribute singles out is first
            referred to by a relation (else a spatial word).
        referit_num_images: images of the ReferIt split of its own (0: none).
        referit_split_fractions: (train, val, test) fractions of those images.

    Returns:
        The counts also written to ``meta.json['counts']``.
    """
    if seed < 0 or num_images < 1:
        raise ValueError(f'need seed >= 0 and num_images >= 1, got {seed}, {num_images}')
    if num_images > REFERIT_INDEX_START:
        raise ValueError(f'num_images must be <= {REFERIT_INDEX_START}, got {num_images}')
    options = {
        k: v for k, v in locals().items() if k not in ('out_dir', 'preset', 'seed', 'num_images')
    }
    config = resolve_options(preset, num_images, options)
    config.validate()
    if config.objects == 'pictograms' and not osp.isfile(font_path()):
        raise FileNotFoundError(
            f'the pictogram objects need the Symbola font at {font_path()}: install it with '
            '`apt-get install fonts-symbola` (tools/setup_env.sh does), or set '
            'MMGROUNDING_SYMBOLA_FONT to a Symbola .ttf'
        )
    arguments = dict(seed=seed, num_images=num_images, **asdict(config))
    if config.is_v1:
        arguments = {k: v for k, v in arguments.items() if k not in V2_OPTIONS}
    else:
        arguments = dict(preset=preset, **arguments)
    version = GENERATOR_VERSION if config.is_v1 else GENERATOR_VERSION_V2
    _prepare_out_dir(out_dir, build=(version, json.loads(json.dumps(arguments))))
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
    categories = CATEGORIES if config.objects == 'shapes' else PICTOGRAM_CATEGORY_NAMES
    counts = {
        'images': writers.count_images(records),
        'flickr30k_entities': writers.write_flickr30k_entities(out_dir, records),
        'refcoco': writers.write_refcoco(out_dir, records, categories=categories),
        'vg': writers.write_visual_genome(out_dir, records),
        'coco_captions': writers.write_coco_captions(out_dir, records, version=version),
    }
    referit_records = []
    if config.referit_num_images:
        referit_dir = osp.join(out_dir, writers.REFERIT_IMAGE_DIR)
        os.makedirs(referit_dir, exist_ok=True)
        referit_splits = assign_splits(
            config.referit_num_images,
            seed=seed,
            fractions=config.referit_split_fractions,
            stream=_REFERIT_SPLIT_STREAM,
        )
        for k, split in enumerate(referit_splits):
            record = generate_image_record(
                REFERIT_INDEX_START + k, seed=seed, split=split, config=config
            )
            render_scene(record.scene).save(
                osp.join(referit_dir, record.file_name), format='JPEG', quality=JPEG_QUALITY
            )
            referit_records.append(record)
        counts['referit'] = writers.write_referit(out_dir, referit_records, categories=categories)
    if not config.is_v1:
        counts['v2'] = writers.write_v2_annotations(
            out_dir, records, referit_records, rule=CONTEXT_RULE
        )
    meta = {
        'name': 'SynthGround',
        'generator_version': version,
        'arguments': arguments,
        'image_id_start': IMAGE_ID_START,
        'categories': list(categories),
        'colours': {name: list(rgb) for name, rgb in COLOURS.items()},
        'sizes': list(SIZES),
        'background_kinds': list(BACKGROUND_KINDS),
    }
    if config.objects == 'shapes':
        meta['phrase_type_of_category'] = dict(PHRASE_TYPE_OF_CATEGORY)
        meta['refcoco_test_rule'] = REFCOCO_TEST_RULE
    else:
        meta.update(_pictogram_meta())
    if not config.is_v1:
        meta['context_rule'] = CONTEXT_RULE
    if referit_records:
        meta['referit_image_id_start'] = IMAGE_ID_START + REFERIT_INDEX_START
    meta['counts'] = counts
    writers.write_json(osp.join(out_dir, 'meta.json'), meta, indent=2)
    return counts


def _pictogram_meta() -> dict:
    """The taxonomy of the pictogram objects, for ``meta.json``."""
    return {
        'phrase_type_of_category': dict(PHRASE_TYPE_OF_PICTOGRAM),
        'refcoco_test_rule': REFCOCO_TEST_RULE_V2,
        'font': osp.basename(font_path()),
        'pictograms': [
            {
                'name': c.name,
                'codepoint': f'U+{c.codepoint:04X}',
                'glyph_name': c.glyph_name,
                'synset': c.synset,
                'hypernym_chain': list(c.chain),
                'supercategory': c.supercategory,
            }
            for c in PICTOGRAM_CATEGORIES
        ],
        'supercategories': {
            synset: {
                'phrase_type': phrase_type,
                'part_colour': list(PART_COLOURS[synset]),
                'part_window_uv': list(PART_WINDOWS[synset]),
            }
            for synset, phrase_type in SUPERCATEGORY_PHRASE_TYPES.items()
        },
    }


# What the project's tools derive from a build inside its folder (vocabularies, the detector's
# COCO files and region cache, method inputs): stale once the build changes.
DERIVED_OUTPUTS = (
    'vocab.txt',
    'vg_triplets.json',
    'detection',
    'regions',
    'ckd',
    'reir',
    'infoground',
    'selfeq',
    'camwsvg',
)


def _prepare_out_dir(out_dir: str, *, build: Optional[tuple] = None) -> None:
    """Create ``out_dir``, or clear the files of an earlier SynthGround build in it (and, when
    that build was another one than ``build`` = (generator version, arguments), the
    :data:`DERIVED_OUTPUTS` made from it)."""
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
    with open(osp.join(out_dir, 'meta.json'), encoding='utf-8') as f:
        meta = json.load(f)
    if build is not None and (meta.get('generator_version'), meta.get('arguments')) != build:
        for name in DERIVED_OUTPUTS:
            path = osp.join(out_dir, name)
            if osp.isdir(path):
                shutil.rmtree(path)
            elif osp.isfile(path):
                os.remove(path)
    stale = [
        ('images', '.jpg'),
        ('referit/images', '.jpg'),
        ('flickr30k_entities/Annotations', '.xml'),
        ('flickr30k_entities/Sentences', '.txt'),
    ]
    for sub_dir, suffix in stale:
        folder = osp.join(out_dir, sub_dir)
        if osp.isdir(folder):
            for name in sorted(os.listdir(folder)):
                if name.endswith(suffix):
                    os.remove(osp.join(folder, name))
