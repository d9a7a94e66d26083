"""SynthGround: a deterministic procedural grounding benchmark in real dataset formats.

``build_synthground(out_dir, seed=0, num_images=1500)`` writes images plus Flickr30k Entities,
RefCOCO (unc), Visual Genome and COCO-captions annotations; ``preset='v2'`` draws pictograms
under a WordNet hierarchy and adds context scenes, telling parts and a ReferItGame split of its
own; see ``docs/synthground.md``.
"""

from .builder import (
    CONTEXT_RULE,
    GENERATOR_VERSION,
    GENERATOR_VERSION_V2,
    IMAGE_ID_START,
    PRESETS,
    REFCOCO_SPLITS,
    REFCOCO_TEST_RULE,
    REFCOCO_TEST_RULE_V2,
    REFERIT_INDEX_START,
    SPLITS,
    V2_OPTIONS,
    SynthGroundConfig,
    assign_splits,
    build_synthground,
    generate_image_record,
    refcoco_split,
    resolve_options,
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
from .lexicon import SHAPE_LEXICON, HierarchyLexicon, ShapeLexicon
from .palettes import PictogramPalette
from .pictograms import font_path, glyph_masks, object_alpha
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
from .sampling import DEFAULT_IMAGE_SIZES_WH, SHAPE_PALETTE, ShapePalette, sample_scene
from .scene import BACKGROUND_KINDS, Background, Scene, SceneObject
from .shapes import CATEGORIES, COLOURS, PHRASE_TYPE_OF_CATEGORY, PHRASE_TYPES, SIZES
from .taxonomy import (
    CONCEPT_NOUNS,
    PHRASE_TYPE_OF_PICTOGRAM,
    PICTOGRAM_CATEGORIES,
    PICTOGRAM_CATEGORY_NAMES,
    SUPERCATEGORY_PHRASE_TYPES,
    PictogramCategory,
    concept_chain,
)
from .writers import context_dependent

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
    'REFCOCO_TEST_RULE_V2',
    'CONTEXT_RULE',
    'GENERATOR_VERSION_V2',
    'PRESETS',
    'V2_OPTIONS',
    'REFERIT_INDEX_START',
    'resolve_options',
    'context_dependent',
    'ShapeLexicon',
    'HierarchyLexicon',
    'SHAPE_LEXICON',
    'ShapePalette',
    'SHAPE_PALETTE',
    'PictogramPalette',
    'font_path',
    'glyph_masks',
    'object_alpha',
    'CONCEPT_NOUNS',
    'PICTOGRAM_CATEGORIES',
    'PICTOGRAM_CATEGORY_NAMES',
    'PHRASE_TYPE_OF_PICTOGRAM',
    'SUPERCATEGORY_PHRASE_TYPES',
    'PictogramCategory',
    'concept_chain',
]
