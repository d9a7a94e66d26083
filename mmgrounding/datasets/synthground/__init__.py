"""SynthGround: a deterministic procedural grounding benchmark in real dataset formats.

``build_synthground(out_dir, seed=0, num_images=1500)`` writes images plus Flickr30k Entities,
RefCOCO (unc), Visual Genome and COCO-captions annotations; see ``docs/synthground.md``.
"""

from .builder import (
    GENERATOR_VERSION,
    IMAGE_ID_START,
    REFCOCO_SPLITS,
    REFCOCO_TEST_RULE,
    SPLITS,
    SynthGroundConfig,
    assign_splits,
    build_synthground,
    generate_image_record,
    refcoco_split,
)
from .language import (
    ATTRIBUTE_SETS,
    NOTVISUAL_ENTITY_ID,
    NOTVISUAL_PHRASE_TYPE,
    SCENE_PHRASE_TYPE,
    Caption,
    Entity,
    Phrase,
    generate_captions,
)
from .record import ImageRecord
from .referring import (
    REFEXP_RELATION_WORDS,
    ReferringExpression,
    RegionDescription,
    generate_referring_expressions,
    generate_region_descriptions,
)
from .relations import (
    DIRECTIONAL_PREDICATES,
    NEXT_TO,
    min_separation_px,
    near_threshold_px,
    relation,
)
from .rendering import render_scene
from .sampling import DEFAULT_IMAGE_SIZES_WH, sample_scene
from .scene import BACKGROUND_KINDS, Background, Scene, SceneObject
from .shapes import CATEGORIES, COLOURS, PHRASE_TYPE_OF_CATEGORY, PHRASE_TYPES, SIZES

__all__ = [
    'build_synthground',
    'generate_image_record',
    'assign_splits',
    'refcoco_split',
    'SynthGroundConfig',
    'ImageRecord',
    'sample_scene',
    'render_scene',
    'relation',
    'min_separation_px',
    'near_threshold_px',
    'generate_captions',
    'generate_referring_expressions',
    'generate_region_descriptions',
    'Scene',
    'SceneObject',
    'Background',
    'Caption',
    'Phrase',
    'Entity',
    'ReferringExpression',
    'RegionDescription',
    'CATEGORIES',
    'COLOURS',
    'SIZES',
    'PHRASE_TYPES',
    'PHRASE_TYPE_OF_CATEGORY',
    'BACKGROUND_KINDS',
    'DEFAULT_IMAGE_SIZES_WH',
    'DIRECTIONAL_PREDICATES',
    'NEXT_TO',
    'SCENE_PHRASE_TYPE',
    'NOTVISUAL_PHRASE_TYPE',
    'NOTVISUAL_ENTITY_ID',
    'ATTRIBUTE_SETS',
    'REFEXP_RELATION_WORDS',
    'GENERATOR_VERSION',
    'IMAGE_ID_START',
    'SPLITS',
    'REFCOCO_SPLITS',
    'REFCOCO_TEST_RULE',
]
