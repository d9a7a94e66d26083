"""Build a SynthGround dataset: sample every image, render it, write every format.

The generator's options are :mod:`.options`, one image's split and record :mod:`.image_records`,
the format writers :mod:`.writers`; their public names are re-exported here.
"""

from __future__ import annotations

import json
import os
import os.path as osp
import shutil
from dataclasses import asdict
from typing import Optional, Sequence, Tuple

from . import writers
from .image_records import (
    IMAGE_ID_START,
    REFCOCO_TEST_RULE,
    REFCOCO_TEST_RULE_V2,
    REFERIT_SPLIT_STREAM,
    assign_splits,
    generate_image_record,
    refcoco_split,
)
from .options import MAX_OBJECTS, PRESETS, V2_OPTIONS, SynthGroundConfig, resolve_options
from .pictograms import font_path
from .rendering import render_scene
from .scene import BACKGROUND_KINDS
from .shapes import CATEGORIES, COLOURS, PHRASE_TYPE_OF_CATEGORY, SIZES
from .taxonomy import (
    PART_COLOURS,
    PART_WINDOWS,
    PHRASE_TYPE_OF_PICTOGRAM,
    PICTOGRAM_CATEGORIES,
    PICTOGRAM_CATEGORY_NAMES,
    SUPERCATEGORY_PHRASE_TYPES,
)
from .writers import REFCOCO_SPLITS, SPLITS

__all__ = [
    'build_synthground',
    'GENERATOR_VERSION',
    'GENERATOR_VERSION_V2',
    'CONTEXT_RULE',
    'JPEG_QUALITY',
    'REFERIT_INDEX_START',
    'DERIVED_OUTPUTS',
    # re-exported
    'IMAGE_ID_START',
    'REFCOCO_TEST_RULE',
    'REFCOCO_TEST_RULE_V2',
    'MAX_OBJECTS',
    'PRESETS',
    'V2_OPTIONS',
    'SynthGroundConfig',
    'resolve_options',
    'assign_splits',
    'generate_image_record',
    'refcoco_split',
    'SPLITS',
    'REFCOCO_SPLITS',
]

GENERATOR_VERSION = '1.0.0'
GENERATOR_VERSION_V2 = '2.0.0'  # the v2 preset (pictograms, context scenes, parts, ReferIt)
CONTEXT_RULE = (
    'a referring expression or caption phrase is context-dependent when it names one object '
    'and the image holds another object of the same category, so only an attribute (colour, '
    'size) or a spatial relation tells them apart'
)
JPEG_QUALITY = 90
# The ReferIt split's own images have indices from here on (image ids from 2000001).
REFERIT_INDEX_START = 1_000_000


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
            stream=REFERIT_SPLIT_STREAM,
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
